"""What the owner of a server under an abuse case is told (4.5.2.2). Mandatory, on every channel."""

from wuji.notifications.choices import NoticeChannel, NoticeKind
from wuji.notifications.events import Event, declare

ALL_CHANNELS = (NoticeChannel.INBOX, NoticeChannel.EMAIL, NoticeChannel.SMS)

OWNER_ASKED = declare(Event(
    code="abuse.owner_asked",
    kind=NoticeKind.LEGAL,
    subject_zh="滥用投诉 {{ number }}：请在 {{ deadline }} 前处理",
    body_zh="您的服务器 {{ server }} 涉及滥用投诉（{{ category }}，协议第 {{ clause }} 条），案件编号 {{ number }}。\n"
            "{{ text }}\n请在 {{ deadline }} 前处理并在控制台回复说明：{{ link }}。"
            "逾期未处理的，武极云有权依据协议第 4.5.2.2 条采取暂停、解绑公网 IP、限制账户功能或终止服务等措施。",
    subject_en="Abuse report {{ number }}: please act before {{ deadline }}",
    body_en="Your server {{ server }} is the subject of an abuse report ({{ category }}, clause {{ clause }}), case "
            "{{ number }}.\n{{ text }}\nPlease deal with it before {{ deadline }} and reply in the portal: {{ link }}. "
            "Otherwise Wuji Cloud may, under clause 4.5.2.2, suspend the server, unbind its public IP, restrict "
            "account functions or terminate the service.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

ACTION_TAKEN = declare(Event(
    code="abuse.action_taken",
    kind=NoticeKind.LEGAL,
    subject_zh="滥用案件 {{ number }}：武极云已采取措施（{{ action }}）",
    body_zh="根据《武极云用户服务协议》第 4.5.2.2 条，针对案件 {{ number }}（{{ category }}），"
            "武极云已对{% if server %}服务器 {{ server }} {% else %}您的账户{% endif %}采取措施：{{ action }}。\n"
            "原因：{{ reason }}\n{% if no_refund %}根据协议第 4.5.1 条，终止服务不予退还任何款项。\n{% endif %}"
            "如有异议，请在控制台回复：{{ link }}。",
    subject_en="Abuse case {{ number }}: Wuji Cloud has taken a measure ({{ action }})",
    body_en="Under clause 4.5.2.2 of the service agreement, for case {{ number }} ({{ category }}), Wuji Cloud has "
            "taken this measure on {% if server %}server {{ server }}{% else %}your account{% endif %}: {{ action }}.\n"
            "Reason: {{ reason }}\n{% if no_refund %}Under clause 4.5.1, no payment is refunded on termination.\n"
            "{% endif %}If you disagree, reply in the portal: {{ link }}.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

CASE_CLOSED = declare(Event(
    code="abuse.case_closed",
    subject_zh="滥用案件 {{ number }} 已结案",
    body_zh="案件 {{ number }} 已结案。说明：{{ note }}",
    subject_en="Abuse case {{ number }} is closed",
    body_en="Case {{ number }} is closed. Note: {{ note }}",
    mandatory=True,
))

STAFF_MESSAGE = declare(Event(
    code="abuse.staff_message",
    subject_zh="滥用案件 {{ number }} 有新消息",
    body_zh="关于案件 {{ number }}，武极云工作人员留言：\n{{ text }}\n请在控制台查看并回复：{{ link }}。",
    subject_en="New message on abuse case {{ number }}",
    body_en="On case {{ number }}, Wuji Cloud staff wrote:\n{{ text }}\nView and reply in the portal: {{ link }}.",
    mandatory=True,
))
