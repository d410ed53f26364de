"""What network tells customers."""

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
