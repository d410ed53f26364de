import pytest
from django.core.exceptions import ValidationError

from wuji.accounts.otp import mask_mobile, normalise_mainland_mobile


@pytest.mark.parametrize("raw", [
    "13800138000", "+8613800138000", "008613800138000", "8613800138000", "138 0013 8000", "138-0013-8000",
    "(+86) 138-0013-8000", "+86 138 0013 8000", "（+86）13800138000", " 13800138000 ",
])
def test_accepted_forms_normalise_to_e164(raw):
    assert normalise_mainland_mobile(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["19912345678", "+8619912345678", "16512345678"])
def test_all_second_digits_3_to_9_accepted(raw):
    assert normalise_mainland_mobile(raw).startswith("+861")


@pytest.mark.parametrize("raw", [
    "1380013800",        # 10 digits
    "138001380001",      # 12 digits
    "12800138000",       # second digit 2
    "10800138000",       # second digit 0
    "23800138000",       # does not start with 1
    "1380013800a",       # letter
    "+85213800138000",   # another country code
    "14400000000000",    # 13-digit IoT number (cannot receive SMS)
    "861380013800",      # prefix stripped only when 11 digits remain → 12 digits left as is, invalid
    "+86 1380013800",    # +86 followed by 10 digits
    "86",                # prefix alone
])
def test_invalid_forms_are_refused_with_field_keyed_error(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_mainland_mobile(raw)
    assert list(exc.value.message_dict) == ["phone"]
    assert "手机号码" in exc.value.message_dict["phone"][0]


@pytest.mark.parametrize("raw", ["", None, "  ", "--"])
def test_empty_is_required(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_mainland_mobile(raw, field="mobile")
    assert exc.value.message_dict == {"mobile": ["请填写手机号码。"]}


def test_86_prefix_kept_when_it_is_part_of_an_11_digit_number():
    # "86" is stripped only when exactly 11 digits remain; 11 digits starting with 86 is simply invalid.
    with pytest.raises(ValidationError):
        normalise_mainland_mobile("86138001380")


def test_mask():
    assert mask_mobile("+8613800138000") == "138****8000"
