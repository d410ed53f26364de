"""Identity-number checks against the vectors of domain-cn.md §1–2."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from wuji.identity import validators

VALID_IDS = ["110101199003071233", "310115198511120020", "440305200002294564", "51010719780615321X",
             "11010519491231002X"]
VALID_CODES = ["91350100M000100Y43", "91330106673959654P", "91440300708461136T", "914403001922038216",
               "91110000802100433B", "91110108MA01ABCD5T"]


def refusal(func, value):
    with pytest.raises(ValidationError) as info:
        func(value)
    (field, errors), = info.value.error_dict.items()
    return field, errors[0].code, errors[0].message


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_resident_ids(number):
    assert validators.validate_resident_id(number) == number


def test_lower_case_x_is_accepted_and_upper_cased():
    assert validators.validate_resident_id(" 51010719780615321x ") == "51010719780615321X"


def test_weights_and_worked_example():
    assert validators.ID_WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    assert validators.resident_id_check_char("11010119900307123") == "3"
    assert validators.resident_id_check_char("44052418800101001") == "4"  # GB 11643's example


@pytest.mark.parametrize(("number", "code"), [
    ("110105194912310021", "checksum"),
    ("110105194902310026", "birth_date"),         # 31 February, checksum itself correct
    ("110101209901010017", "birth_date_future"),  # checksum correct
    ("440524188001010014", "birth_date_past"),    # GB's own example, born 1880: not plausible today
    ("11010519491231002Y", "characters"),
    ("11010519491231002", "length"),
    ("110105491231002", "legacy"),
    ("990101199003071235", "address_code"),
    ("", "required"),
])
def test_invalid_resident_ids_are_refused_by_field(number, code):
    field, got, message = refusal(validators.validate_resident_id, number)
    assert (field, got) == ("id_number", code)
    assert message  # a Chinese message for people


def test_legacy_message_is_clear_and_conversion_still_works_for_old_data():
    *_, message = refusal(validators.validate_resident_id, "110105491231002")
    assert "15 位" in message and "18 位" in message
    assert validators.legacy_id_to_18("110105491231002") == "11010519491231002X"


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes_pass_both_checks(code):
    assert validators.validate_credit_code(code) == (code, [])


def test_credit_code_weights_and_standard_example():
    assert validators.USCC_WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert validators.uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(("code", "reason"), [
    ("91350100M000100Y4Z", "characters"),   # Z is not in the alphabet (the standard's invalid input)
    ("9135010OM000100Y43", "characters"),   # letter O
    ("91310115MA1H8R7C6D", "checksum"),     # the blog example: should end in 7
    ("91310115MA1H8R7C6", "length"),
    ("B1350100M000100Y43", "authority"),
    ("91A50100M000100Y43", "region"),
])
def test_invalid_credit_codes_are_refused_by_field(code, reason):
    field, got, _ = refusal(validators.validate_credit_code, code)
    assert (field, got) == ("credit_code", reason)


def test_organisation_code_check_is_only_a_warning():
    first17 = "91110108MA01ABCD0"  # organisation-code check char deliberately wrong
    code = first17 + validators.uscc_check_char(first17)
    normalised, warnings = validators.validate_credit_code(code)
    assert normalised == code and len(warnings) == 1


def test_mask_keeps_four_and_four():
    assert validators.mask("110101199003071233") == "1101**********1233"


@settings(max_examples=300, deadline=None)
@given(index=st.sampled_from(VALID_IDS), position=st.integers(0, 17), replacement=st.sampled_from("0123456789X"))
def test_any_single_changed_character_breaks_the_id_checksum(index, position, replacement):
    number = index
    if number[position] == replacement or (position < 17 and replacement == "X"):
        return
    changed = number[:position] + replacement + number[position + 1:]
    check = validators.resident_id_check_char(changed[:17])
    assert check != changed[17]


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(VALID_CODES), position=st.integers(0, 17),
       replacement=st.sampled_from(validators.USCC_CHARSET))
def test_any_single_changed_character_breaks_the_credit_code_checksum(code, position, replacement):
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1:]
    assert validators.uscc_check_char(changed[:17]) != changed[17]
