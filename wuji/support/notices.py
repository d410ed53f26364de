"""What support tells people (3.6): the customer on every staff reply and on status changes made by staff or the
system (in-site message and e-mail); the assigned staff member, by in-site message, when the customer replies or
reopens."""

from wuji.notifications.choices import NoticeChannel
from wuji.notifications.events import Event, declare

STAFF_REPLIED = declare(Event(
    code="support.staff_replied",
    subject_zh="您的工单 #{{ number }} 有新回复",
    body_zh="工作人员回复了您的工单 #{{ number }}「{{ subject }}」：\n{{ body }}\n查看和回复：{{ link }}",
    subject_en="New reply to your ticket #{{ number }}",
    body_en="Staff replied to your ticket #{{ number }} \"{{ subject }}\":\n{{ body }}\nView and reply: {{ link }}",
))

STATUS_CHANGED = declare(Event(
    code="support.status_changed",
    subject_zh="您的工单 #{{ number }} 状态已变为「{{ status }}」",
    body_zh="您的工单 #{{ number }}「{{ subject }}」状态已变为「{{ status }}」。"
            "{% if autoclosed %}工单已解决 {{ days }} 天且无新回复，系统已自动关闭。{% endif %}\n查看详情：{{ link }}",
    subject_en="Your ticket #{{ number }} is now \"{{ status }}\"",
    body_en="Your ticket #{{ number }} \"{{ subject }}\" is now \"{{ status }}\".{% if autoclosed %} It was "
            "resolved {{ days }} days ago with no reply since, so it was closed automatically.{% endif %}\n"
            "Details: {{ link }}",
))

CUSTOMER_REPLIED = declare(Event(
    code="support.customer_replied",
    subject_zh="工单 #{{ number }} 有客户新消息",
    body_zh="客户{% if reopened %}重新打开了{% else %}回复了{% endif %}工单 #{{ number }}「{{ subject }}」。"
            "处理：{{ link }}",
    subject_en="Customer activity on ticket #{{ number }}",
    body_en="The customer {% if reopened %}reopened{% else %}replied to{% endif %} ticket #{{ number }} "
            "\"{{ subject }}\". Handle it: {{ link }}",
    channels=(NoticeChannel.INBOX,),
))
