"""What billing tells customers about fund freezes (5.4.7: e-mail, in-site message and SMS; mandatory)."""

from wuji.notifications.choices import NoticeChannel, NoticeKind
from wuji.notifications.events import Event, declare

ALL_CHANNELS = (NoticeChannel.INBOX, NoticeChannel.EMAIL, NoticeChannel.SMS)

FUNDS_FROZEN = declare(Event(
    code="billing.funds_frozen",
    kind=NoticeKind.LEGAL,
    subject_zh="您的账户资金 {{ amount }} 已被冻结",
    body_zh="根据《武极云用户服务协议》第 {{ clause }} 条，您账户中的 {{ amount }} 已被冻结，冻结期间不能消费或提现。"
            "原因：{{ reason }}。{{ note }}\n"
            "如有异议，请在 {{ deadline }} 前登录控制台，在“资金冻结与申诉”页面提交申诉说明和证明材料：{{ link }}。"
            "逾期未申诉或申诉未通过的，该笔资金将{{ outcome }}。",
    subject_en="{{ amount }} in your account has been frozen",
    body_en="Under clause {{ clause }} of the Wuji Cloud service agreement, {{ amount }} in your account has been "
            "frozen; it cannot be spent or withdrawn while frozen. Reason: {{ reason }}. {{ note }}\n"
            "If you disagree, appeal before {{ deadline }} on the \"Fund freezes and appeals\" page, with an "
            "explanation and supporting documents: {{ link }}. Without an appeal in time, or if the appeal is "
            "rejected, the money will be: {{ outcome }}.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

APPEAL_RECEIVED = declare(Event(
    code="billing.freeze_appeal_received",
    kind=NoticeKind.BILLING,
    subject_zh="我们已收到您对资金冻结的申诉",
    body_zh="我们已收到您对冻结金额 {{ amount }} 的申诉，工作人员审核后会通知您结果。",
    subject_en="We have received your appeal against the freeze",
    body_en="We have received your appeal against the freeze of {{ amount }}. Staff will review it and tell you "
            "the result.",
    mandatory=True,
))

FUNDS_UNFROZEN = declare(Event(
    code="billing.funds_unfrozen",
    kind=NoticeKind.BILLING,
    subject_zh="您账户中被冻结的 {{ amount }} 已解冻",
    body_zh="您账户中被冻结的 {{ amount }} 已解冻，已回到现金余额，可正常使用。说明：{{ reason }}",
    subject_en="{{ amount }} in your account has been unfrozen",
    body_en="The frozen {{ amount }} is back in your cash balance and can be used again. Note: {{ reason }}",
    channels=ALL_CHANNELS,
    mandatory=True,
))

FREEZE_OUTCOME = declare(Event(
    code="billing.freeze_outcome",
    kind=NoticeKind.LEGAL,
    subject_zh="关于您被冻结资金 {{ amount }} 的处理结果",
    body_zh="{% if appealed %}您的申诉未通过审核（{{ reason }}）。{% else %}您未在申诉期限内提交申诉。{% endif %}"
            "根据《武极云用户服务协议》第 5.4.7 条，冻结的 {{ amount }} 将{{ outcome }}。",
    subject_en="What happens to your frozen {{ amount }}",
    body_en="{% if appealed %}Your appeal was not upheld ({{ reason }}).{% else %}No appeal was submitted in time."
            "{% endif %} Under clause 5.4.7 of the service agreement, the frozen {{ amount }} will be: {{ outcome }}.",
    channels=ALL_CHANNELS,
    mandatory=True,
))
