"""Contracts: apply, staff approve or reject, unique numbers, the Chinese PDF and the 大写 converter."""

import itertools
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from wuji.audit.models import Instruction
from wuji.billing import services as billing
from wuji.core import testing
from wuji.core.clock import SHANGHAI
from wuji.finance import services as finance
from wuji.finance.capitals import fen_to_capitals
from wuji.finance.choices import ContractStatus
from wuji.finance.models import Contract
from wuji.notifications.models import Notice

from .conftest import CREDIT_CODE
from .pdftext import extract_text

_keys = itertools.count()


def buy(customer, catalogue):
    order, _password = billing.place_order(
        customer=customer, region=catalogue["region"], plan=catalogue["plan"], image=catalogue["image"],
        cycle="monthly", name="web-1", idempotency_key=f"buy-{next(_keys)}", channel="web", ip="127.0.0.1")
    return order


# --- 大写金额 ----------------------------------------------------------------------------------------------

CAPITALS = [
    (123450, "壹仟贰佰叁拾肆元伍角整"),
    (0, "零元整"),
    (1, "壹分"),
    (50, "伍角整"),
    (55, "伍角伍分"),
    (105, "壹元零伍分"),
    (100, "壹元整"),
    (1000, "壹拾元整"),
    (1001, "壹拾元零壹分"),
    (10100, "壹佰零壹元整"),
    (100100, "壹仟零壹元整"),
    (1001000, "壹万零壹拾元整"),
    (10000000, "壹拾万元整"),
    (100000100, "壹佰万零壹元整"),
    (1000100000, "壹仟万壹仟元整"),
    (10000000000, "壹亿元整"),
    (10001000000, "壹亿零壹万元整"),
    (10000100000, "壹亿零壹仟元整"),
    (1234567890123, "壹佰贰拾叁亿肆仟伍佰陆拾柒万捌仟玖佰零壹元贰角叁分"),
    (-2900, "负贰拾玖元整"),
]


@pytest.mark.parametrize(("fen", "expected"), CAPITALS)
def test_capitals(fen, expected):
    assert fen_to_capitals(fen) == expected


DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def parse_capitals(text: str) -> int:
    """An independent reader of 大写金额 (back to fen), to check the writer on any amount."""
    text = text.removesuffix("整")
    yuan_part, _, rest = text.partition("元") if "元" in text else ("", "", text)
    total = section = digit = 0
    for char in yuan_part:
        if char in DIGIT:
            digit = DIGIT[char]
        elif char in UNIT:
            section += digit * UNIT[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
    fen = (total + section + digit) * 100
    jiao = re.search(r"(.)角", rest)
    fen_digit = re.search(r"(.)分", rest)
    return fen + (DIGIT[jiao.group(1)] * 10 if jiao else 0) + (DIGIT[fen_digit.group(1)] if fen_digit else 0)


@given(st.integers(min_value=0, max_value=99_999_999_999_99))
def test_capitals_read_back_to_the_same_amount(fen):
    text = fen_to_capitals(fen)
    assert parse_capitals(text) == fen
    assert "零零" not in text and not text.startswith("零") or fen == 0
    assert text.endswith("整") == (fen % 10 == 0)


def test_capitals_refuse_floats():
    with pytest.raises(TypeError):
        fen_to_capitals(12.5)


# --- Applying and reviewing ----------------------------------------------------------------------------


def test_customer_applies_for_a_contract_for_their_order(customer, catalogue):
    order = buy(customer, catalogue)
    contract = finance.apply_for_contract(customer, order=order, ip="203.0.113.5")
    assert contract.status == ContractStatus.PENDING and contract.number is None
    assert Instruction.objects.get(action="contract.apply").params == {"order": order.pk}
    assert Notice.objects.filter(recipient=customer, event="finance.contract_applied").exists()
    assert finance.has_open_applications(customer)
    assert not finance.has_open_applications(customer, include_contracts=False)


def test_contract_refusals(customer, other_customer, catalogue):
    order = buy(customer, catalogue)
    with pytest.raises(ValidationError) as info:
        finance.apply_for_contract(other_customer, order=order)  # someone else's order
    assert "order" in info.value.message_dict
    finance.apply_for_contract(customer, order=order)
    with pytest.raises(ValidationError) as info:
        finance.apply_for_contract(customer, order=order)  # one open contract per order
    assert "已有合同" in info.value.message_dict["order"][0]
    assert Contract.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(customer=customer, order=order, applied_at=order.created_at)


def test_unverified_customer_cannot_apply_for_a_contract(catalogue, settings):
    settings.WUJI_REAL_NAME_REQUIRED_REGIONS = "none"
    unverified = testing.make_customer("anon@example.com", balance_fen=100_00, verified=False)
    order = buy(unverified, catalogue)
    with pytest.raises(ValidationError) as info:
        finance.apply_for_contract(unverified, order=order)
    assert "实名认证" in info.value.message_dict["__all__"][0]
    assert not Contract.objects.exists()


def test_approval_numbers_contracts_and_generates_the_chinese_pdf(enterprise, catalogue, staff):
    order = buy(enterprise, catalogue)
    contract = finance.approve_contract(finance.apply_for_contract(enterprise, order=order), staff, ip="10.0.0.1")
    year = contract.reviewed_at.astimezone(SHANGHAI).year
    assert contract.status == ContractStatus.APPROVED and contract.number == f"WJ-HT-{year}-000001"
    assert contract.party_name == "赣州示例科技有限公司" and contract.party_number == CREDIT_CODE
    assert contract.agreement_version  # the version the customer accepted at registration
    data = finance.contract_pdf(contract)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert b"/STSong-Light" in data and b"/UniGB-UCS2-H" in data
    text = extract_text(data)
    for expected in ("武极云服务合同", contract.number, "赣州示例科技有限公司", CREDIT_CODE, "赣州武极云计算有限公司",
                     fen_to_capitals(order.amount_fen), f"订单号 {order.pk}", contract.agreement_version,
                     catalogue["plan"].name_zh):
        assert expected in text.replace("\n", ""), expected
    record = Instruction.objects.get(action="contract.approve")
    assert record.params["number"] == contract.number and record.actor == staff
    assert Notice.objects.filter(recipient=enterprise, event="finance.contract_approved").exists()


def test_individual_contract_prints_the_masked_id_number(customer, catalogue, staff):
    contract = finance.approve_contract(finance.apply_for_contract(customer, order=buy(customer, catalogue)), staff)
    assert "*" in contract.party_number
    text = extract_text(finance.contract_pdf(contract))
    assert contract.party_number in text and "测试用户" in text


def test_numbers_are_sequential_and_unique(customer, catalogue, staff):
    numbers = []
    for _ in range(3):
        contract = finance.apply_for_contract(customer, order=buy(customer, catalogue))
        numbers.append(finance.approve_contract(contract, staff).number)
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.filter(number=numbers[1]).update(number=numbers[0])


def test_reject_needs_a_reason_and_frees_the_order(customer, catalogue, staff):
    order = buy(customer, catalogue)
    contract = finance.apply_for_contract(customer, order=order)
    with pytest.raises(ValidationError):
        finance.reject_contract(contract, staff, "")
    finance.reject_contract(contract, staff, "订单信息需核实")
    assert contract.status == ContractStatus.REJECTED
    assert Notice.objects.filter(recipient=customer, event="finance.contract_rejected").exists()
    with pytest.raises(finance.FinanceRefused):
        finance.approve_contract(contract, staff)
    with pytest.raises(finance.FinanceRefused):
        finance.reject_contract(contract, staff, "again")
    assert finance.apply_for_contract(customer, order=order).status == ContractStatus.PENDING


@given(st.text(alphabet="甲方乙合同服务费用 ABCxyz0123456789-（），。", min_size=0, max_size=300))
def test_contract_lines_fit_the_page_and_lose_no_text(text):
    from reportlab.pdfbase import pdfmetrics

    from wuji.finance import pdf

    font, width = pdf._font(), 400
    lines = pdf.wrap(text, font, 11, width)
    assert all(pdfmetrics.stringWidth(line, font, 11) <= width or len(line) == 1 or " " not in line and
               line.isascii() for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
