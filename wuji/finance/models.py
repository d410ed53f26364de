"""Fapiao (发票) applications, general-taxpayer confirmations and contracts (合同).

The invoiceable amount is never stored: it is the customer's cash consumption in the ledger minus the
amounts of their pending and issued applications (see services.invoiceable_fen).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import ContractStatus, FapiaoMedium, FapiaoStatus, FapiaoType, TitleKind
from .storage import contract_path, fapiao_path, private_storage


class GeneralTaxpayer(models.Model):
    """Staff confirmed, with evidence, that the customer's verified enterprise is a 一般纳税人 (may receive 专票).

    Invariant: at most one active (not revoked) confirmation per customer. It holds only for the enterprise it
    was confirmed for (`number_hash` of the approved verification); a new enterprise verification needs a new
    confirmation."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT,
        related_name="general_taxpayer_confirmations",
    )
    number_hash = models.CharField(verbose_name=_("统一社会信用代码摘要"), max_length=64)
    company_name = models.CharField(verbose_name=_("企业名称"), max_length=100)
    evidence = models.CharField(verbose_name=_("证明材料"), max_length=500)
    confirmed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("确认人"), on_delete=models.PROTECT, related_name="+",
    )
    confirmed_at = models.DateTimeField(verbose_name=_("确认时间"))
    revoked_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    revoked_at = models.DateTimeField(verbose_name=_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(verbose_name=_("撤销原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("一般纳税人确认")
        verbose_name_plural = _("一般纳税人确认")
        ordering = ["-confirmed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(revoked_at__isnull=True), name="finance_one_active_taxpayer",
                violation_error_message=_("该客户已被确认为一般纳税人。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.customer_id})"


class FapiaoApplication(models.Model):
    """One fapiao application (发票申请) and, once issued, the fapiao itself.

    The buyer (抬头) is a snapshot of the verified identity at application time. Pending and issued
    applications reserve their amount; a red reversal (红冲) of an issued one releases it.
    Invariants: fapiao numbers (blue and red) are unique; `amount_fen` > 0; a retry with the same
    idempotency key returns the first application."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT,
        related_name="fapiao_applications",
    )
    status = models.CharField(
        verbose_name=_("状态"), max_length=16, choices=FapiaoStatus, default=FapiaoStatus.PENDING,
    )
    fapiao_type = models.CharField(verbose_name=_("发票类型"), max_length=16, choices=FapiaoType)
    medium = models.CharField(verbose_name=_("发票形式"), max_length=16, choices=FapiaoMedium)
    amount_fen = models.PositiveBigIntegerField(verbose_name=_("金额（分）"))
    title_kind = models.CharField(verbose_name=_("抬头类型"), max_length=16, choices=TitleKind)
    title_name = models.CharField(verbose_name=_("发票抬头"), max_length=100)
    taxpayer_id = models.CharField(verbose_name=_("纳税人识别号"), max_length=20, blank=True)
    registered_address = models.CharField(verbose_name=_("注册地址"), max_length=200, blank=True)
    registered_phone = models.CharField(verbose_name=_("注册电话"), max_length=30, blank=True)
    bank_name = models.CharField(verbose_name=_("开户银行"), max_length=100, blank=True)
    bank_account_encrypted = models.TextField(verbose_name=_("银行账号（加密）"), blank=True)
    bank_account_masked = models.CharField(verbose_name=_("银行账号"), max_length=40, blank=True)
    email = models.EmailField(verbose_name=_("接收邮箱"), blank=True)
    mailing_address = models.CharField(verbose_name=_("邮寄地址"), max_length=300, blank=True)
    idempotency_key = models.CharField(verbose_name=_("幂等键"), max_length=100)
    applied_at = models.DateTimeField(verbose_name=_("申请时间"))
    reviewed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    reviewed_at = models.DateTimeField(verbose_name=_("处理时间"), null=True, blank=True)
    reject_reason = models.CharField(verbose_name=_("驳回原因"), max_length=500, blank=True)
    fapiao_number = models.CharField(verbose_name=_("发票号码"), max_length=20, null=True, blank=True, unique=True)
    issued_on = models.DateField(verbose_name=_("开票日期"), null=True, blank=True)
    pdf = models.FileField(
        verbose_name=_("发票文件"), storage=private_storage, upload_to=fapiao_path, blank=True,
    )
    reversed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("红冲处理人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    reversed_at = models.DateTimeField(verbose_name=_("红冲时间"), null=True, blank=True)
    red_number = models.CharField(verbose_name=_("红字发票号码"), max_length=20, null=True, blank=True, unique=True)
    reverse_reason = models.CharField(verbose_name=_("红冲原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("发票申请")
        verbose_name_plural = _("发票申请")
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="finance_fapiao_idempotent"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="finance_fapiao_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=FapiaoStatus.values()), name="finance_fapiao_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[FapiaoStatus.ISSUED, FapiaoStatus.REVERSED]) | Q(fapiao_number__isnull=False),
                name="finance_fapiao_issued_has_number",
            ),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="finance_fapiao_customer_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title_name} ¥{self.amount_fen / 100:.2f} {FapiaoStatus.label(self.status)}"


class Contract(models.Model):
    """A contract (合同) for one order: applied for by the customer, approved by staff, then generated as a PDF
    with a unique number (WJ-HT-<year>-<serial>). At most one pending or approved contract per order."""

    customer = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="contracts",
    )
    order = models.ForeignKey(
        to="billing.Order", verbose_name=_("订单"), on_delete=models.PROTECT, related_name="contracts",
    )
    status = models.CharField(
        verbose_name=_("状态"), max_length=16, choices=ContractStatus, default=ContractStatus.PENDING,
    )
    number = models.CharField(verbose_name=_("合同编号"), max_length=32, null=True, blank=True, unique=True)
    party_name = models.CharField(verbose_name=_("客户名称"), max_length=100, blank=True)
    party_number = models.CharField(verbose_name=_("证件号码"), max_length=32, blank=True)
    agreement_version = models.CharField(verbose_name=_("服务协议版本"), max_length=32, blank=True)
    applied_at = models.DateTimeField(verbose_name=_("申请时间"))
    reviewed_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    reviewed_at = models.DateTimeField(verbose_name=_("审核时间"), null=True, blank=True)
    reject_reason = models.CharField(verbose_name=_("驳回原因"), max_length=500, blank=True)
    pdf = models.FileField(
        verbose_name=_("合同文件"), storage=private_storage, upload_to=contract_path, blank=True,
    )

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(status__in=[ContractStatus.PENDING, ContractStatus.APPROVED]),
                name="finance_one_contract_per_order",
                violation_error_message=_("该订单已有合同申请。"),
            ),
            models.CheckConstraint(
                condition=~Q(status=ContractStatus.APPROVED) | Q(number__isnull=False),
                name="finance_contract_approved_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk} ({ContractStatus.label(self.status)})"


class NumberSequence(models.Model):
    """A counter row, locked while a number is taken (contract numbers per year): gapless and unique."""

    name = models.CharField(verbose_name=_("名称"), max_length=50, unique=True)
    last = models.PositiveBigIntegerField(verbose_name=_("当前值"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self) -> str:
        return f"{self.name}: {self.last}"
