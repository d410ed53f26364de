"""What payments tell customers."""

from wuji.notifications.events import Event, declare

BANK_TRANSFER_CONFIRMED = declare(Event(
    code="payments.bank_transfer_confirmed",
    subject_zh="您的对公转账 {{ number }} 已确认到账",
    body_zh="您于 {{ transfer_date }} 登记的对公转账 {{ number }}（登记金额 {{ declared }}）已由财务确认，"
            "实际到账 {{ received }}，已充入您的账户现金余额。",
    subject_en="Your bank transfer {{ number }} has been received",
    body_en="The bank transfer {{ number }} you declared for {{ transfer_date }} (declared {{ declared }}) has been "
            "confirmed by our finance team: {{ received }} received and credited to your cash balance.",
))

BANK_TRANSFER_REJECTED = declare(Event(
    code="payments.bank_transfer_rejected",
    subject_zh="您的对公转账登记 {{ number }} 未能确认",
    body_zh="您于 {{ transfer_date }} 登记的对公转账 {{ number }}（登记金额 {{ declared }}）未能确认到账，"
            "原因：{{ reason }}。如有疑问，请提交工单并附上银行回单。",
    subject_en="Your bank transfer declaration {{ number }} could not be confirmed",
    body_en="The bank transfer {{ number }} you declared for {{ transfer_date }} (declared {{ declared }}) could not "
            "be confirmed. Reason: {{ reason }}. If you have questions, open a ticket with the bank receipt attached.",
))
