"""What the accounts app tells users: lock-down and unlock (2.2.1), contact changes."""

from wuji.notifications.choices import NoticeChannel, NoticeKind
from wuji.notifications.events import Event, declare

EVERY_CHANNEL = (NoticeChannel.INBOX, NoticeChannel.EMAIL, NoticeChannel.SMS)

ACCOUNT_LOCKED = declare(Event(
    code="accounts.account_locked",
    kind=NoticeKind.SECURITY,
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
    kind=NoticeKind.SECURITY,
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
    kind=NoticeKind.SECURITY,
    subject_zh="您的账户{{ kind }}已更换",
    body_zh="您的账户{{ kind }}已由 {{ old }} 更换为 {{ new }}。如非本人操作，请立即报告未授权使用。",
    subject_en="The {{ kind_en }} of your account has changed",
    body_en="The {{ kind_en }} of your account changed from {{ old }} to {{ new }}. If this was not you, "
            "report unauthorised use at once.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))


# --- Contacts must stay valid (clause 4.5.1 ¶ contacts) ---------------------------------------------------
# A contact found invalid is told about on the OTHER channels: one event per contact, same text.

CONTACT_CHANNELS = {
    "mobile": (NoticeChannel.INBOX, NoticeChannel.EMAIL),
    "email": (NoticeChannel.INBOX, NoticeChannel.SMS),
    "qq": EVERY_CHANNEL,
}


def _per_contact(code: str, **text) -> dict[str, Event]:
    return {contact: declare(Event(code=f"{code}.{contact}", channels=channels, mandatory=True, **text))
            for contact, channels in CONTACT_CHANNELS.items()}


CONTACT_INVALID = _per_contact(
    "accounts.contact_invalid",
    subject_zh="请更新您的{{ contact }}",
    body_zh="您账户的{{ contact }} {{ value }} 已失效：{{ reason }}。依据用户服务协议第 4.5.1 条，请于 {{ deadline }}"
            "（北京时间）前在“基本资料”页面（{{ link }}）更换或重新验证。逾期未更正，账户将被限制使用"
            "（暂停购买新的服务）；账户余额不受影响。",
    subject_en="Please update your {{ contact_en }}",
    body_en="The {{ contact_en }} {{ value }} of your account is no longer valid: {{ reason }}. Under clause 4.5.1 of "
            "the agreement, please change or re-verify it on the Profile page ({{ link }}) before {{ deadline }} "
            "(Beijing time). If it is not fixed by then, the account will be restricted (no new purchases); "
            "your balance is not affected.",
)

CONTACT_RESTRICTED = _per_contact(
    "accounts.contact_restricted",
    subject_zh="账户已因联系方式失效被限制使用",
    body_zh="您账户的{{ contact }} {{ value }} 未在期限内更正，依据用户服务协议第 4.5.1 条，账户已被限制使用："
            "暂停购买新的服务，已有服务和账户余额不受影响。在“基本资料”页面（{{ link }}）更正后自动恢复。",
    subject_en="Your account is restricted: a contact is invalid",
    body_en="The {{ contact_en }} {{ value }} of your account was not fixed in time. Under clause 4.5.1 of the "
            "agreement the account is restricted: no new purchases; existing services and your balance are not "
            "affected. It is restored as soon as you fix it on the Profile page ({{ link }}).",
)

CONTACT_RESOLVED = declare(Event(
    code="accounts.contact_resolved",
    subject_zh="联系方式失效提醒已解除",
    body_zh="您账户{{ contact }}的失效提醒已解除（{{ resolution }}）。"
            "{% if was_restricted %}账户限制已同时解除。{% endif %}",
    subject_en="Contact notice resolved",
    body_en="The notice about your account's {{ contact_en }} has been resolved ({{ resolution_en }})."
            "{% if was_restricted %} The restriction on your account has been lifted.{% endif %}",
    channels=EVERY_CHANNEL,
    mandatory=True,
))

ACCOUNT_CANCELLED = declare(Event(
    code="accounts.account_cancelled",
    kind=NoticeKind.SECURITY,
    subject_zh="您的武极云账户已注销",
    body_zh="根据您的申请，您的账户已于 {{ time }} 注销：账户已停用，所有登录会话已结束，所有 API 密钥已吊销。"
            "依照法律规定，您的实名信息、交易与账务记录及操作记录将继续保存至法定期限届满。如非本人操作，请立即联系客服。",
    subject_en="Your Wuji Cloud account has been cancelled",
    body_en="As you requested, your account was cancelled at {{ time }}: it is deactivated, every session has been "
            "ended and every API key revoked. As the law requires, your real-name information, transaction and "
            "ledger records and instruction records are kept until the statutory period ends. If you did not "
            "request this, contact support at once.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))


# --- Selective restriction of account functions (clause 4.5.2.2) -------------------------------------------

FUNCTIONS_RESTRICTED = declare(Event(
    code="accounts.functions_restricted",
    kind=NoticeKind.LEGAL,
    subject_zh="您的武极云账户部分功能已被限制",
    body_zh="依据用户服务协议第 4.5.2.2 条，您账户的以下功能已于 {{ time }} 被限制：{{ functions }}。"
            "原因：{{ reason }}。其他功能、已有服务和账户余额不受影响。"
            "您可在“账户与安全”页面（{{ link }}）查看；如有异议，请提交工单联系客服。",
    subject_en="Some functions of your Wuji Cloud account are restricted",
    body_en="Under clause 4.5.2.2 of the agreement, the following functions of your account were restricted at "
            "{{ time }}: {{ functions_en }}. Reason: {{ reason }}. Other functions, your existing services and your "
            "balance are not affected. See the Account & security page ({{ link }}); to object, open a support "
            "ticket.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))

FUNCTION_RESTRICTION_LIFTED = declare(Event(
    code="accounts.function_restriction_lifted",
    subject_zh="您的武极云账户功能限制已解除",
    body_zh="您账户的“{{ function }}”功能限制已于 {{ time }} 解除（{{ reason }}），现已恢复正常使用。",
    subject_en="A restriction on your Wuji Cloud account has been lifted",
    body_en="The restriction on {{ function_en }} for your account was lifted at {{ time }} ({{ reason }}); the "
            "function is available again.",
    channels=EVERY_CHANNEL,
    mandatory=True,
))
