from django.utils.translation import gettext_lazy as _

from wuji.core.choices import ChoiceSet


class AccountKind(ChoiceSet):
    CASH = "cash"
    GIFT = "gift"
    FROZEN = "frozen"
    PLATFORM = "platform"

    CUSTOMER_KINDS = (CASH, GIFT, FROZEN)

    CHOICES = (
        (CASH, _("现金余额"), "green"),
        (GIFT, _("赠送金"), "blue"),
        (FROZEN, _("冻结金额"), "red"),
        (PLATFORM, _("平台账户"), "grey"),
    )


class TransactionKind(ChoiceSet):
    TOPUP = "topup"
    CHARGE = "charge"
    GIFT = "gift"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    REFUND = "refund"
    WITHDRAWAL = "withdrawal"
    CORRECTION = "correction"

    CHOICES = (
        (TOPUP, _("充值")),
        (CHARGE, _("消费")),
        (GIFT, _("赠送")),
        (FREEZE, _("冻结")),
        (UNFREEZE, _("解冻")),
        (REFUND, _("退款")),
        (WITHDRAWAL, _("提现")),
        (CORRECTION, _("冲正")),
    )


class PlatformAccount:
    """Codes of the platform-wide accounts (see design/LEDGER.md)."""

    REVENUE_CASH = "revenue:cash"
    REVENUE_GIFT = "revenue:gift"
    EXPENSE_GIFT = "expense:gift"
    PAYABLE_REFUNDS = "payable:refunds"
    INCOME_FEES = "income:fees"

    @staticmethod
    def clearing(channel: str) -> str:
        return f"clearing:{channel}"
