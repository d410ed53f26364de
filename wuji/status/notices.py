"""What the status app tells customers about maintenance (clause 7.1). Context: title, window (Beijing time),
impact, description, servers (names), reason (emergency / cancellation / extension)."""

from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

MAINTENANCE_SCHEDULED = declare(Event(
    code="status.maintenance_scheduled",
    kind=NoticeKind.LEGAL,
    subject_zh="维护通知：{{ title }}（{{ window }}）",
    body_zh="我们将在 {{ window }}（北京时间）进行维护：{{ title }}。影响：{{ impact }}。涉及您的服务器："
            "{{ servers }}。{{ description }}{% if reason %}（紧急维护原因：{{ reason }}）{% endif %}",
    subject_en="Maintenance notice: {{ title }} ({{ window }})",
    body_en="We will carry out maintenance at {{ window }} (Beijing time): {{ title }}. Impact: {{ impact }}. "
            "Your servers concerned: {{ servers }}. {{ description }}"
            "{% if reason %} (emergency maintenance: {{ reason }}){% endif %}",
    mandatory=True,
))

MAINTENANCE_EXTENDED = declare(Event(
    code="status.maintenance_extended",
    subject_zh="维护延长：{{ title }} 将持续到 {{ ends }}",
    body_zh="维护“{{ title }}”已延长，时间调整为 {{ window }}（北京时间）。影响：{{ impact }}。"
            "涉及您的服务器：{{ servers }}。原因：{{ reason }}",
    subject_en="Maintenance extended: {{ title }} now lasts until {{ ends }}",
    body_en="The maintenance \"{{ title }}\" has been extended to {{ window }} (Beijing time). Impact: {{ impact }}. "
            "Your servers concerned: {{ servers }}. Reason: {{ reason }}",
    mandatory=True,
))

MAINTENANCE_CANCELLED = declare(Event(
    code="status.maintenance_cancelled",
    subject_zh="维护取消：{{ title }}",
    body_zh="原定于 {{ window }}（北京时间）的维护“{{ title }}”已取消，您的服务器不受影响。原因：{{ reason }}",
    subject_en="Maintenance cancelled: {{ title }}",
    body_en="The maintenance \"{{ title }}\" planned for {{ window }} (Beijing time) has been cancelled; your "
            "servers are not affected. Reason: {{ reason }}",
))
