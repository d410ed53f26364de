"""Identity-number checks: resident ID (GB 11643, ISO 7064 MOD 11-2) and unified social credit code
(GB 32100, MOD 31). A passed check proves internal consistency only — never an identity (see providers).

Each validator returns the normalised value or raises a ValidationError keyed by the form field.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wuji.core import clock

# --- Resident ID number 居民身份证号码 -----------------------------------------------------------------

ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
ID_CHECK_CHARS = "10X98765432"  # indexed by S mod 11

# GB/T 2260 province-level codes (first two digits), plus 81/82/83 of the Hong Kong, Macau and Taiwan
# residence permits, which use the same structure and check digit.
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
})
EARLIEST_BIRTH = dt.date(1900, 1, 1)


def resident_id_check_char(first17: str) -> str:
    """The MOD 11-2 check character for 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def legacy_id_to_18(number15: str) -> str:
    """A first-generation 15-digit number as 18 digits (century 19, check digit added). For legacy data only."""
    if len(number15) != 15 or not number15.isdigit():
        raise ValueError("a legacy resident ID number is 15 digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + resident_id_check_char(first17)


def birth_date_of(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def validate_resident_id(value: str, field: str = "id_number") -> str:
    """An 18-character resident ID number with a plausible birth date and a correct check digit."""
    number = (value or "").strip().replace(" ", "").upper()

    def refuse(message: str, code: str):
        raise ValidationError({field: [ValidationError(message, code=code)]})

    if not number:
        refuse(_("请填写身份证号码。"), "required")
    if len(number) == 15 and number.isdigit():
        refuse(_("15 位的第一代身份证已于 2013 年停止使用，请填写 18 位的第二代居民身份证号码。"), "legacy")
    if len(number) != 18:
        refuse(_("身份证号码应为 18 位。"), "length")
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        refuse(_("身份证号码只能由数字组成，最后一位可以是 X。"), "characters")
    if number[:2] not in PROVINCE_CODES:
        refuse(_("身份证号码的地址码无效。"), "address_code")
    born = birth_date_of(number)
    if born is None:
        refuse(_("身份证号码中的出生日期无效。"), "birth_date")
    if born > clock.local_now().date():
        refuse(_("身份证号码中的出生日期不能晚于今天。"), "birth_date_future")
    if born < EARLIEST_BIRTH:
        refuse(_("身份证号码中的出生日期不能早于 1900 年。"), "birth_date_past")
    if resident_id_check_char(number[:17]) != number[17]:
        refuse(_("身份证号码校验位不正确，请核对后重新填写。"), "checksum")
    return number


# --- Unified social credit code 统一社会信用代码 ---------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
USCC_WEIGHTS = [3 ** i % 31 for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
USCC_AUTHORITIES = frozenset("123456789ANY")  # 登记管理部门码
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 organisation-code check character over 8 characters (digits 0–9, letters A–Z = 10–35)."""
    total = sum(int(char, 36) * weight for char, weight in zip(first8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_credit_code(value: str, field: str = "credit_code") -> tuple[str, list[str]]:
    """An 18-character unified social credit code with a correct MOD 31 check character.

    Returns (code, warnings). The embedded organisation-code check is warn-only: older and individual-
    business codes do not always satisfy it.
    """
    code = (value or "").strip().replace(" ", "").upper()

    def refuse(message: str, code_: str):
        raise ValidationError({field: [ValidationError(message, code=code_)]})

    if not code:
        refuse(_("请填写统一社会信用代码。"), "required")
    if len(code) != 18:
        refuse(_("统一社会信用代码应为 18 位。"), "length")
    if any(char not in USCC_CHARSET for char in code):
        refuse(_("统一社会信用代码含有无效字符（不使用字母 I、O、Z、S、V）。"), "characters")
    if code[0] not in USCC_AUTHORITIES:
        refuse(_("统一社会信用代码的登记管理部门码无效。"), "authority")
    if not code[2:8].isdigit():
        refuse(_("统一社会信用代码第 3–8 位应为行政区划代码（数字）。"), "region")
    if uscc_check_char(code[:17]) != code[17]:
        refuse(_("统一社会信用代码校验位不正确，请核对后重新填写。"), "checksum")
    warnings = []
    if org_code_check_char(code[8:16]) != code[16]:
        warnings.append(_("统一社会信用代码中的组织机构代码校验未通过，请人工核对。"))
    return code, warnings


# --- Names ------------------------------------------------------------------------------------------


def validate_name(value: str, field: str, *, label: str, max_length: int) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ValidationError({field: [ValidationError(_("请填写%(label)s。") % {"label": label}, code="required")]})
    if len(name) < 2 or len(name) > max_length:
        raise ValidationError({field: [ValidationError(
            _("%(label)s应为 2 到 %(max)s 个字符。") % {"label": label, "max": max_length}, code="length")]})
    return name


def mask(number: str) -> str:
    """First four and last four characters visible: 1101**********1233."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
