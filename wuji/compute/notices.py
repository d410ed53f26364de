"""What compute tells customers."""

from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

SERVER_READY = declare(Event(
    code="compute.server_ready",
    subject_zh="您的服务器 {{ name }} 已创建完成",
    body_zh="服务器 {{ name }}（{{ uuid }}）已在 {{ region }} 创建完成并开机。"
            "请使用下单时显示的 root 密码登录，并妥善保管。",
    subject_en="Your server {{ name }} is ready",
    body_en="Server {{ name }} ({{ uuid }}) in {{ region }} has been created and started. Log in with the root "
            "password shown when you ordered it, and keep it safe.",
))

SERVER_FAILED = declare(Event(
    code="compute.server_failed",
    subject_zh="您的服务器 {{ name }} 创建失败",
    body_zh="服务器 {{ name }}（{{ uuid }}）创建失败：{{ error }}。我们的工作人员会尽快处理，您也可以提交工单。",
    subject_en="Your server {{ name }} could not be created",
    body_en="Server {{ name }} ({{ uuid }}) could not be created: {{ error }}. Our staff will look into it; you can "
            "also open a ticket.",
))

# --- issue 5: migration (5.5, 8.6). Context: name, uuid, date, window, new_address, address_changes,
# old_address, reason (scheduled/reminder), error (failed). Mandatory: the agreement requires the notice. ----

_ADDRESS_ZH = ("{% if address_changes %}迁移后公网 IP 将由 {{ old_address }} 变更为 {{ new_address }}，"
               "请在迁移完成后将您的域名解析修改到新 IP，否则网站和应用将无法访问。"
               "{% elif new_address %}迁移后公网 IP 不变（{{ new_address }}）。{% endif %}")
_ADDRESS_EN = ("{% if address_changes %}After the move its public IP changes from {{ old_address }} to "
               "{{ new_address }}: point your domains at the new IP once the move is done, or your sites and "
               "applications will be unreachable.{% elif new_address %}Its public IP stays the same "
               "({{ new_address }}).{% endif %}")

MIGRATION_SCHEDULED = declare(Event(
    code="compute.migration_scheduled",
    kind=NoticeKind.LEGAL,
    subject_zh="机房迁移通知：您的服务器 {{ name }} 将于 {{ date }} 迁移",
    body_zh="因{{ reason }}，服务器 {{ name }}（{{ uuid }}）将在 {{ window }}（北京时间）迁移到新的宿主机，"
            "迁移期间服务器会关机。" + _ADDRESS_ZH,
    subject_en="Migration notice: your server {{ name }} moves on {{ date }}",
    body_en="Because of {{ reason }}, server {{ name }} ({{ uuid }}) will be moved to a new host during "
            "{{ window }} (Beijing time); it is shut down while it moves. " + _ADDRESS_EN,
    mandatory=True,
))

MIGRATION_REMINDER = declare(Event(
    code="compute.migration_reminder",
    kind=NoticeKind.LEGAL,
    subject_zh="提醒：您的服务器 {{ name }} 将于 24 小时内迁移",
    body_zh="服务器 {{ name }}（{{ uuid }}）将在 {{ window }}（北京时间）迁移，迁移期间服务器会关机。" + _ADDRESS_ZH,
    subject_en="Reminder: your server {{ name }} moves within 24 hours",
    body_en="Server {{ name }} ({{ uuid }}) will be moved during {{ window }} (Beijing time); it is shut down "
            "while it moves. " + _ADDRESS_EN,
    mandatory=True,
))

MIGRATION_DONE = declare(Event(
    code="compute.migration_done",
    subject_zh="您的服务器 {{ name }} 已完成迁移",
    body_zh="服务器 {{ name }}（{{ uuid }}）已迁移到新的宿主机。"
            "{% if address_changes %}公网 IP 已变更为 {{ new_address }}（原 {{ old_address }}），"
            "请立即将您的域名解析修改到新 IP，并更新防火墙和白名单设置。"
            "{% elif new_address %}公网 IP 不变（{{ new_address }}）。{% endif %}",
    subject_en="Your server {{ name }} has been moved",
    body_en="Server {{ name }} ({{ uuid }}) now runs on its new host. "
            "{% if address_changes %}Its public IP is now {{ new_address }} (was {{ old_address }}): point your "
            "domains at the new IP now, and update your firewalls and allow-lists."
            "{% elif new_address %}Its public IP is unchanged ({{ new_address }}).{% endif %}",
    mandatory=True,
))

MIGRATION_FAILED = declare(Event(
    code="compute.migration_failed",
    subject_zh="您的服务器 {{ name }} 迁移未完成",
    body_zh="服务器 {{ name }}（{{ uuid }}）的迁移未能完成：{{ error }}。"
            "服务器留在原宿主机上（迁移前在运行的已重新开机），"
            "公网 IP 不变{% if old_address %}（{{ old_address }}）{% endif %}，请暂不要修改域名解析。"
            "我们的工作人员会处理，并在重新安排迁移前至少提前 3 个自然日再次通知您。",
    subject_en="The move of your server {{ name }} did not complete",
    body_en="Server {{ name }} ({{ uuid }}) could not be moved: {{ error }}. It stays on its current host "
            "(started again if it was running) with its public IP unchanged"
            "{% if old_address %} ({{ old_address }}){% endif %}; do not change your DNS. "
            "Our staff will look into it and notify you again at least 3 calendar days before a new date.",
    mandatory=True,
))

MIGRATION_CANCELLED = declare(Event(
    code="compute.migration_cancelled",
    kind=NoticeKind.LEGAL,
    subject_zh="您的服务器 {{ name }} 的迁移已取消",
    body_zh="原定于 {{ window }}（北京时间）进行的服务器 {{ name }}（{{ uuid }}）迁移已取消。"
            "服务器留在原宿主机上，公网 IP 不变{% if old_address %}（{{ old_address }}）{% endif %}，"
            "请不要修改域名解析。",
    subject_en="The move of your server {{ name }} is cancelled",
    body_en="The move of server {{ name }} ({{ uuid }}) planned for {{ window }} (Beijing time) is cancelled. It "
            "stays on its current host with its public IP unchanged{% if old_address %} ({{ old_address }})"
            "{% endif %}; do not change your DNS.",
    mandatory=True,
))


# --- issue 5: push (服务器push) ----------------------------------------------------------------------------

PUSH_OFFERED = declare(Event(
    code="compute.push_offered",
    subject_zh="有用户向您转让服务器 {{ name }}",
    body_zh="用户 {{ sender }} 向您转让服务器 {{ name }}（{{ region }}）。请在 {{ deadline }} 前登录控制台的"
            "“服务器转让”页面接收或拒绝，逾期自动失效。接收后该服务器及其续费、公网 IP 均归您所有，费用由您承担。",
    subject_en="A server is being transferred to you: {{ name }}",
    body_en="{{ sender }} is transferring server {{ name }} ({{ region }}) to you. Accept or decline it on the "
            "\"Server transfers\" page of the console before {{ deadline }}; after that the offer lapses. Once "
            "accepted, the server, its renewals and its public IP are yours, and so are its charges.",
))

PUSH_ACCEPTED = declare(Event(
    code="compute.push_accepted",
    subject_zh="您转让的服务器 {{ name }} 已被接收",
    body_zh="您转让给 {{ receiver }} 的服务器 {{ name }} 已于 {{ at }} 被接收，该服务器及其续费、公网 IP 已归对方所有。"
            "转让手续费：{{ fee }} 元。",
    subject_en="Your server {{ name }} has been transferred",
    body_en="{{ receiver }} accepted server {{ name }} at {{ at }}; the server, its renewals and its public IP now "
            "belong to them. Transfer fee: CNY {{ fee }}.",
    mandatory=True,
))

PUSH_RECEIVED = declare(Event(
    code="compute.push_received",
    subject_zh="您已接收服务器 {{ name }}",
    body_zh="您已于 {{ at }} 接收 {{ sender }} 转让的服务器 {{ name }}。此后的续费和按量费用从您的账户扣除；"
            "自动续费已关闭，如需要请在服务器页面开启。",
    subject_en="You have received server {{ name }}",
    body_en="At {{ at }} you accepted server {{ name }} from {{ sender }}. Renewals and pay-as-you-go charges are "
            "now taken from your account; auto-renewal is off, switch it on on the server page if you want it.",
    mandatory=True,
))

PUSH_DECLINED = declare(Event(
    code="compute.push_declined",
    subject_zh="服务器 {{ name }} 的转让被拒绝",
    body_zh="{{ receiver }} 拒绝接收您转让的服务器 {{ name }}，该服务器仍归您所有。",
    subject_en="The transfer of server {{ name }} was declined",
    body_en="{{ receiver }} declined server {{ name }}; it remains yours.",
))

PUSH_EXPIRED = declare(Event(
    code="compute.push_expired",
    subject_zh="服务器 {{ name }} 的转让已过期",
    body_zh="您转让给 {{ receiver }} 的服务器 {{ name }} 未在 {{ deadline }} 前被接收，转让已失效，"
            "该服务器仍归您所有。",
    subject_en="The transfer of server {{ name }} has lapsed",
    body_en="{{ receiver }} did not accept server {{ name }} before {{ deadline }}; the offer has lapsed and the "
            "server remains yours.",
))

PUSH_CANCELLED = declare(Event(
    code="compute.push_cancelled",
    subject_zh="服务器 {{ name }} 的转让已撤回",
    body_zh="{{ sender }} 已撤回向您转让服务器 {{ name }} 的请求。",
    subject_en="The transfer of server {{ name }} was withdrawn",
    body_en="{{ sender }} withdrew the offer to transfer server {{ name }} to you.",
))
