"""ICP filing numbers and domain names, normalised before they are stored (domain-cn.md §4.1)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The 31 provincial communications administrations, plus the legacy 川 (四川) and 甘 (甘肃) still on live sites.
PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝蜀黔滇藏陕陇青宁新川甘"
# <province>ICP备<8 or 10 digits>号, optionally -<n> (the n-th site), with the 2023+ App/mini-program suffix A/X.
# Sloppy footers often drop the 号; it is put back, so the stored number is always the canonical form.
ICP_NUMBER = re.compile(rf"^([{PROVINCES}]ICP备(?:\d{{8}}|\d{{10}}))号?(-[1-9]\d{{0,3}}[AX]?)?$")
DASHES = re.compile(r"[\u2010-\u2015\u2212]")  # hyphen, en/em dash, minus sign: typed for "-" in the suffix
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN_LENGTH = 253


def normalise_icp_number(text: str) -> str:
    """The filing number in canonical form: full-width letters and digits (NFKC) and dashes folded, whitespace
    dropped, "icp" upper-cased, a missing 号 put back. ValidationError when it is not one (公网安备 numbers and
    ICP证 licences are other things)."""
    value = DASHES.sub("-", re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")))
    match = ICP_NUMBER.match(re.sub(r"(?i)icp", "ICP", value))
    if not match:
        raise ValidationError(_("ICP 备案号格式无效，应为“省份简称 + ICP备 + 8 或 10 位数字 + 号”，"
                                "可带网站序号，例如 京ICP备12345678号-1。"), code="invalid_icp_number")
    return f"{match[1]}号{match[2] or ''}"


def normalise_domain(text: str) -> str:
    """A host name as the edge compares it: lower-case, internationalised labels in IDNA punycode, no trailing
    dot. Refuses addresses, ports, paths, wildcards and single labels."""
    value = (text or "").strip().lower().rstrip(".")
    invalid = ValidationError(_("域名格式无效，请填写已备案的域名，例如 example.cn 或 中文.cn"
                                "（不含协议、端口和路径）。"), code="invalid_domain")
    try:
        ascii_name = value.encode("idna").decode("ascii") if value else ""
    except UnicodeError:
        raise invalid from None
    labels = ascii_name.split(".")
    if (len(ascii_name) > MAX_DOMAIN_LENGTH or len(labels) < 2 or not all(LABEL.match(label) for label in labels)
            or labels[-1].isdigit()):
        raise invalid
    return ascii_name
