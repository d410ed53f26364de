"""What real-name verification tells customers."""

from wuji.notifications.choices import NoticeChannel, NoticeKind
from wuji.notifications.events import Event, declare

SUBMITTED = declare(Event(
    code="identity.submitted",
    subject_zh="实名认证申请已提交",
    body_zh="您的{{ kind }}申请（{{ name }}，{{ number }}）已提交，审核结果会通过站内信和邮件通知您。",
    subject_en="Real-name verification submitted",
    body_en="Your {{ kind_en }} application ({{ name }}, {{ number }}) has been submitted. We will tell you the "
            "result by in-site message and e-mail.",
))

APPROVED = declare(Event(
    code="identity.approved",
    subject_zh="实名认证已通过",
    body_zh="您的{{ kind }}（{{ name }}，{{ number }}）已通过审核。账户名称已更新为“{{ name }}”。",
    subject_en="Real-name verification approved",
    body_en="Your {{ kind_en }} ({{ name }}, {{ number }}) has been approved. Your account name is now "
            "\"{{ name }}\".",
    mandatory=True,
))

REJECTED = declare(Event(
    code="identity.rejected",
    subject_zh="实名认证未通过",
    body_zh="您的{{ kind }}申请（{{ name }}，{{ number }}）未通过审核，原因：{{ reason }}。"
            "请在“实名认证”页面修改后重新提交。",
    subject_en="Real-name verification not approved",
    body_en="Your {{ kind_en }} application ({{ name }}, {{ number }}) was not approved. Reason: {{ reason }}. "
            "Please correct it on the Real-name verification page and submit again.",
    mandatory=True,
))

CORRECTION_REQUIRED = declare(Event(
    code="identity.correction_required",
    kind=NoticeKind.LEGAL,
    subject_zh="请更正您的实名信息",
    body_zh="经核查，您账户的实名信息不真实或不准确：{{ reason }}。请于 {{ deadline }}（北京时间）前在"
            "“实名认证”页面提交更正。逾期未更正，依据用户服务协议第 2.1.3 条，账户将被限制使用。",
    subject_en="Please correct your real-name information",
    body_en="Our review found the real-name information of your account untrue or inaccurate: {{ reason }}. "
            "Please submit a correction on the Real-name verification page before {{ deadline }} (Beijing time). "
            "If it is not corrected by then, the account will be restricted under clause 2.1.3 of the agreement.",
    mandatory=True,
))

RESTRICTED = declare(Event(
    code="identity.restricted",
    kind=NoticeKind.LEGAL,
    subject_zh="账户已被限制使用",
    body_zh="您的账户未在期限内更正实名信息（{{ reason }}），依据用户服务协议第 2.1.3 条已被限制使用："
            "暂停购买新的服务。完成更正并经审核后可恢复。",
    subject_en="Your account has been restricted",
    body_en="Your account's real-name information was not corrected in time ({{ reason }}). Under clause 2.1.3 "
            "of the agreement it has been restricted: no new purchases. It is restored once a correction is "
            "approved.",
    mandatory=True,
))

RESTRICTION_LIFTED = declare(Event(
    code="identity.restriction_lifted",
    subject_zh="账户限制已解除",
    body_zh="您账户因实名信息而设的限制已解除。{{ reason }}",
    subject_en="Account restriction lifted",
    body_en="The restriction on your account for real-name information has been lifted. {{ reason }}",
    mandatory=True,
))

MEMBERSHIP_CANCELLED = declare(Event(
    code="identity.membership_cancelled",
    kind=NoticeKind.LEGAL,
    subject_zh="您的会员资格已被注销",
    body_zh="您的账户未在期限内更正实名信息（{{ reason }}），依据用户服务协议第 2.1.3 条，武极云已于 {{ time }}"
            "（北京时间）注销您的会员资格并终止服务，账户已停用，无法再登录，全部会话已结束，API 密钥已撤销。"
            "注销前账户余额已结清，服务器均已释放。注销说明：{{ note }}。如有疑问，请联系客服。",
    subject_en="Your membership has been cancelled",
    body_en="Your account's real-name information was not corrected in time ({{ reason }}). Under clause 2.1.3 of "
            "the agreement, Wuji Cloud cancelled your membership and ended service at {{ time }} (Beijing time): "
            "the account is deactivated and can no longer sign in, every session has been ended and every API key "
            "revoked. The account's balance was settled and its servers released before cancellation. If you have "
            "questions, please contact support. Note from staff: {{ note }}.",
    channels=(NoticeChannel.INBOX, NoticeChannel.EMAIL),  # e-mail matters: the user can no longer sign in
    mandatory=True,
))
