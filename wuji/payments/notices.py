"""What payments tells customers: bank transfers, withdrawals and refunds to the original source."""

from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

WITHDRAWAL_REJECTED = declare(Event(
    code="payments.withdrawal_rejected",
    kind=NoticeKind.BILLING,
    subject_zh="您的提现申请 {{ amount }} 未通过审核",
    body_zh="您的提现申请（{{ amount }}）未通过审核，原因：{{ reason }}。款项已全部退回您的现金余额。",
    subject_en="Your withdrawal of {{ amount }} was not approved",
    body_en="Your withdrawal of {{ amount }} was not approved: {{ reason }}. The money is back in your cash balance.",
    mandatory=True,
))

REFUND_FAILED = declare(Event(
    code="payments.refund_failed",
    kind=NoticeKind.BILLING,
    subject_zh="退款 {{ amount }} 未能退回原支付账户",
    body_zh="{{ kind }}中退回{{ channel }}的 {{ amount }}（退款单号 {{ refund_no }}）被支付渠道拒绝：{{ error }}。"
            "该笔款项已退回您的{{ balance }}，资金没有损失。如需帮助请提交工单。",
    subject_en="A refund of {{ amount }} could not be paid back",
    body_en="The channel refused the refund of {{ amount }} to {{ channel }} (refund no. {{ refund_no }}) in your "
            "{{ kind }}: {{ error }}. The money is back in your {{ balance }}; nothing is lost. Open a ticket if you "
            "need help.",
    mandatory=True,
))

WITHDRAWAL_FINISHED = declare(Event(
    code="payments.withdrawal_finished",
    kind=NoticeKind.BILLING,
    subject_zh="您的{{ kind }} {{ amount }} 已处理完毕",
    body_zh="您的{{ kind }}（{{ amount }}）已处理完毕：已退回 {{ paid }}{% if returned %}，"
            "未能退回的 {{ returned }} 已回到您的账户余额{% endif %}。原路退回的款项到账时间以支付渠道为准。",
    subject_en="Your {{ kind }} of {{ amount }} is done",
    body_en="Your {{ kind }} of {{ amount }} is done: {{ paid }} paid out{% if returned %}; {{ returned }} could not "
            "be paid and is back in your account{% endif %}. When it reaches you depends on the payment channel.",
    mandatory=True,
))

BANK_TRANSFER_CONFIRMED = declare(Event(
    code="payments.bank_transfer_confirmed",
    kind=NoticeKind.BILLING,
    subject_zh="您的对公转账 {{ number }} 已确认到账",
    body_zh="您于 {{ transfer_date }} 登记的对公转账 {{ number }}（登记金额 {{ declared }}）已由财务确认，"
            "实际到账 {{ received }}，已充入您的账户现金余额。",
    subject_en="Your bank transfer {{ number }} has been received",
    body_en="The bank transfer {{ number }} you declared for {{ transfer_date }} (declared {{ declared }}) has been "
            "confirmed by our finance team: {{ received }} received and credited to your cash balance.",
))

BANK_TRANSFER_REJECTED = declare(Event(
    code="payments.bank_transfer_rejected",
    kind=NoticeKind.BILLING,
    subject_zh="您的对公转账登记 {{ number }} 未能确认",
    body_zh="您于 {{ transfer_date }} 登记的对公转账 {{ number }}（登记金额 {{ declared }}）未能确认到账，"
            "原因：{{ reason }}。如有疑问，请提交工单并附上银行回单。",
    subject_en="Your bank transfer declaration {{ number }} could not be confirmed",
    body_en="The bank transfer {{ number }} you declared for {{ transfer_date }} (declared {{ declared }}) could not "
            "be confirmed. Reason: {{ reason }}. If you have questions, open a ticket with the bank receipt attached.",
))
