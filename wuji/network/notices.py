"""What network tells customers."""

from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

IP_CHANGED = declare(Event(
    code="network.ip_changed",
    subject_zh="您的服务器 {{ name }} 的公网 IP 已变更",
    body_zh="服务器 {{ name }}（{{ uuid }}）的公网 IP 已由 {{ old_address }} 变更为 {{ new_address }}。"
            "原因：{{ reason }}。请更新您的域名解析、防火墙和白名单设置。",
    subject_en="The public IP of your server {{ name }} has changed",
    body_en="The public IP of server {{ name }} ({{ uuid }}) has changed from {{ old_address }} to "
            "{{ new_address }}. Reason: {{ reason }}. Please update your DNS records, firewalls and allow-lists.",
    mandatory=True,
))

IP_UNBOUND = declare(Event(
    code="network.ip_unbound",
    kind=NoticeKind.LEGAL,
    subject_zh="您的服务器 {{ name }} 的公网 IP 已被解绑",
    body_zh="服务器 {{ name }}（{{ uuid }}）的公网 IP {{ address }} 已由工作人员解绑并收回。原因：{{ reason }}。"
            "如需公网访问，可在控制台为该服务器重新绑定公网 IP（地址可能不同）。",
    subject_en="The public IP of your server {{ name }} was unbound",
    body_en="Staff unbound the public IP {{ address }} from server {{ name }} ({{ uuid }}) and returned it to the "
            "pool. Reason: {{ reason }}. You can bind a public IP to the server again in the console (the address "
            "may differ).",
    mandatory=True,
))

BLACKHOLE_STARTED = declare(Event(
    code="network.blackhole_started",
    kind=NoticeKind.LEGAL,
    subject_zh="您的服务器 {{ name }} 的公网 IP 已被黑洞封堵",
    body_zh="服务器 {{ name }}（{{ uuid }}）的公网 IP {{ address }} 因遭受攻击已被黑洞封堵，期间无法从公网访问。"
            "原因：{{ reason }}。预计解除时间：{{ until }}（北京时间），届时将自动恢复同一地址。",
    subject_en="The public IP of your server {{ name }} is blackholed",
    body_en="The public IP {{ address }} of server {{ name }} ({{ uuid }}) is under attack and has been blackholed: it "
            "cannot be reached from the internet meanwhile. Reason: {{ reason }}. Expected release: {{ until }} "
            "(Beijing time), when the same address is bound again automatically.",
    mandatory=True,
))

BLACKHOLE_ENDED = declare(Event(
    code="network.blackhole_ended",
    subject_zh="您的服务器 {{ name }} 的黑洞封堵已解除",
    body_zh="服务器 {{ name }}（{{ uuid }}）的公网 IP {{ address }} 的黑洞封堵已解除，"
            "地址正在重新绑定，稍后即可恢复访问。",
    subject_en="The blackhole on your server {{ name }} has ended",
    body_en="The blackhole on the public IP {{ address }} of server {{ name }} ({{ uuid }}) has ended; the address is "
            "being bound again and will be reachable shortly.",
    mandatory=True,
))
