"""What the accounts app tells users: lock-down and unlock (2.2.1), contact changes."""

from wuji.notifications.choices import NoticeChannel
from wuji.notifications.events import Event, declare

EVERY_CHANNEL = (NoticeChannel.INBOX, NoticeChannel.EMAIL, NoticeChannel.SMS)

ACCOUNT_LOCKED = declare(Event(
    code="accounts.account_locked",
    subject_zh="您的武极云账户已锁定",
    body_zh="根据您提交的未授权使用报告（安全事件 #{{ case }}），您的账户已于 {{ time }} 锁定："
            "所有登录会话已结束，所有 API 密钥已吊销。工作人员审核后将为您解锁；如非本人操作，请立即联系客服。",
    subject_en="Your Wuji Cloud account has been locked",
    body_en="Following your report of unauthorised use (security case #{{ case }}), your account was locked at "
            "{{ time }}: every session has been ended and every API key revoked. Staff will unlock it after "
            "review. If you did not file this report, contact support at once.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))

ACCOUNT_UNLOCKED = declare(Event(
    code="accounts.account_unlocked",
    subject_zh="您的武极云账户已解锁",
    body_zh="安全事件 #{{ case }} 已审核完毕，您的账户已解锁。请尽快修改密码并启用两步验证；"
            "API 密钥需要重新创建。",
    subject_en="Your Wuji Cloud account has been unlocked",
    body_en="Security case #{{ case }} has been reviewed and your account unlocked. Please change your password "
            "and turn on two-factor authentication; API keys must be created again.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))

CONTACT_CHANGED = declare(Event(
    code="accounts.contact_changed",
    subject_zh="您的账户{{ kind }}已更换",
    body_zh="您的账户{{ kind }}已由 {{ old }} 更换为 {{ new }}。如非本人操作，请立即报告未授权使用。",
    subject_en="The {{ kind_en }} of your account has changed",
    body_en="The {{ kind_en }} of your account changed from {{ old }} to {{ new }}. If this was not you, "
            "report unauthorised use at once.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))
