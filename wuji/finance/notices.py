"""What fapiao (发票) and contract (合同) work tells customers."""

from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

FAPIAO_APPLIED = declare(Event(
    code="finance.fapiao_applied",
    kind=NoticeKind.BILLING,
    subject_zh="发票申请已提交",
    body_zh="您申请开具的{{ type }}（抬头：{{ title }}，金额 {{ amount }}）已提交，财务人员会尽快处理。",
    subject_en="Fapiao application submitted",
    body_en="Your application for a {{ type_en }} (buyer: {{ title }}, amount {{ amount }}) has been submitted. "
            "Our finance staff will process it soon.",
))

FAPIAO_CANCELLED = declare(Event(
    code="finance.fapiao_cancelled",
    kind=NoticeKind.BILLING,
    subject_zh="发票申请已取消",
    body_zh="您的发票申请（抬头：{{ title }}，金额 {{ amount }}）已取消，金额已退回可开票额度。",
    subject_en="Fapiao application cancelled",
    body_en="Your fapiao application (buyer: {{ title }}, amount {{ amount }}) has been cancelled; the amount is "
            "invoiceable again.",
))

FAPIAO_ISSUED = declare(Event(
    code="finance.fapiao_issued",
    kind=NoticeKind.BILLING,
    subject_zh="发票已开具：{{ number }}",
    body_zh="您申请的{{ type }}已开具：发票号码 {{ number }}，开票日期 {{ date }}，金额 {{ amount }}。"
            "{{ delivery }}",
    subject_en="Fapiao issued: {{ number }}",
    body_en="Your {{ type_en }} has been issued: number {{ number }}, dated {{ date }}, amount {{ amount }}. "
            "{{ delivery_en }}",
))

FAPIAO_REJECTED = declare(Event(
    code="finance.fapiao_rejected",
    kind=NoticeKind.BILLING,
    subject_zh="发票申请未通过",
    body_zh="您的发票申请（抬头：{{ title }}，金额 {{ amount }}）未通过，原因：{{ reason }}。金额已退回可开票额度。",
    subject_en="Fapiao application rejected",
    body_en="Your fapiao application (buyer: {{ title }}, amount {{ amount }}) was rejected. Reason: {{ reason }}. "
            "The amount is invoiceable again.",
))

FAPIAO_REVERSED = declare(Event(
    code="finance.fapiao_reversed",
    kind=NoticeKind.BILLING,
    subject_zh="发票已红冲：{{ number }}",
    body_zh="发票 {{ number }}（金额 {{ amount }}）已开具红字发票 {{ red_number }} 冲销，原因：{{ reason }}。"
            "原发票作废，金额已恢复为可开票额度。",
    subject_en="Fapiao {{ number }} reversed",
    body_en="Fapiao {{ number }} (amount {{ amount }}) has been reversed by red fapiao {{ red_number }}. Reason: "
            "{{ reason }}. The original fapiao is void and the amount is invoiceable again.",
    mandatory=True,
))

CONTRACT_APPLIED = declare(Event(
    code="finance.contract_applied",
    kind=NoticeKind.BILLING,
    subject_zh="合同申请已提交",
    body_zh="您为订单 #{{ order }} 申请的合同已提交，审核通过后可在“发票与合同”页面下载。",
    subject_en="Contract application submitted",
    body_en="Your contract application for order #{{ order }} has been submitted. Once approved you can download "
            "it on the Fapiao and contracts page.",
))

CONTRACT_APPROVED = declare(Event(
    code="finance.contract_approved",
    kind=NoticeKind.BILLING,
    subject_zh="合同已生成：{{ number }}",
    body_zh="订单 #{{ order }} 的合同已生成，合同编号 {{ number }}，请在“发票与合同”页面下载。",
    subject_en="Contract ready: {{ number }}",
    body_en="The contract for order #{{ order }} is ready, number {{ number }}. Download it on the Fapiao and "
            "contracts page.",
))

CONTRACT_REJECTED = declare(Event(
    code="finance.contract_rejected",
    kind=NoticeKind.BILLING,
    subject_zh="合同申请未通过",
    body_zh="您为订单 #{{ order }} 申请的合同未通过，原因：{{ reason }}。",
    subject_en="Contract application rejected",
    body_en="Your contract application for order #{{ order }} was rejected. Reason: {{ reason }}.",
))

GENERAL_TAXPAYER_CONFIRMED = declare(Event(
    code="finance.general_taxpayer_confirmed",
    kind=NoticeKind.BILLING,
    subject_zh="已确认一般纳税人资格",
    body_zh="经审核，{{ company }} 已确认为增值税一般纳税人，现在可以申请开具增值税专用发票。",
    subject_en="General VAT taxpayer status confirmed",
    body_en="We have confirmed {{ company }} as a general VAT taxpayer. You can now apply for special VAT fapiao.",
))

GENERAL_TAXPAYER_REVOKED = declare(Event(
    code="finance.general_taxpayer_revoked",
    kind=NoticeKind.BILLING,
    subject_zh="一般纳税人资格确认已撤销",
    body_zh="{{ company }} 的一般纳税人资格确认已撤销，原因：{{ reason }}。此后只能申请增值税普通发票。",
    subject_en="General VAT taxpayer confirmation withdrawn",
    body_en="The confirmation of {{ company }} as a general VAT taxpayer has been withdrawn. Reason: {{ reason }}. "
            "From now on you can apply for ordinary VAT fapiao only.",
    mandatory=True,
))
