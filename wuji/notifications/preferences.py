"""What each user wants to receive, and where (clause 3.6; PIPL art. 14 for marketing consent).

Per kind and channel (e-mail, SMS, WeChat) a user switches notices on or off; the in-site inbox is always
written, and legal and security notices (and any mandatory event) ignore the switches. Marketing messages
also need the user's explicit, current consent (营销信息同意); withdrawing it is one click, like granting.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuji.audit import services as audit
from wuji.core import clock

from .choices import ALWAYS_ON_KINDS, OPTIONAL_CHANNELS, NoticeKind
from .models import MarketingConsent, NoticePreference, WechatBinding

# The consent text the user agrees to; a new wording gets a new version (kept on every consent record).
CONSENT_TEXT_VERSION = "2026-11"
CONSENT_TEXT = gettext_lazy(
    "我同意武极云通过电子邮件、短信和微信向我发送产品更新、优惠活动等营销信息。我可以随时在“通知设置”中撤回同意，"
    "撤回不影响撤回前基于同意已进行的发送，也不影响服务通知、账单通知、安全通知和法律通知的发送。")


class PreferenceRefused(Exception):
    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


def switchable_kinds() -> list[str]:
    return [kind for kind in NoticeKind.values() if kind not in ALWAYS_ON_KINDS]


def preferences_of(user) -> dict[tuple[str, str], bool]:
    """Every (kind, channel) the user can receive notices on, with whether they do."""
    stored = dict(((p.kind, p.channel), p.enabled) for p in NoticePreference.objects.filter(user=user))
    return {(kind, channel): kind in ALWAYS_ON_KINDS or stored.get((kind, channel), True)
            for kind in NoticeKind.values() for channel in OPTIONAL_CHANNELS}


def switched_off(user) -> set[tuple[str, str]]:
    return set(NoticePreference.objects.filter(user=user, enabled=False).values_list("kind", "channel"))


def set_preferences(user, wanted: dict[tuple[str, str], bool], *, channel: str, ip: str | None) -> None:
    """Store the user's switches. Refuses to switch off legal or security notices, and unknown kinds."""
    for (kind, notice_channel), enabled in wanted.items():
        if kind not in NoticeKind.values() or notice_channel not in OPTIONAL_CHANNELS:
            raise PreferenceRefused(_("没有这种通知类别或渠道。"), code="unknown_preference", field="preferences")
        if kind in ALWAYS_ON_KINDS and not enabled:
            raise PreferenceRefused(_("法律与协议通知和账户安全通知不能关闭。"), code="mandatory_notice",
                                    field="preferences")
    now, current = clock.now(), preferences_of(user)
    changed = {f"{kind}/{ch}": enabled for (kind, ch), enabled in wanted.items() if current[(kind, ch)] != enabled}
    if not changed:
        return
    with transaction.atomic():
        for key, enabled in changed.items():
            kind, notice_channel = key.split("/")
            NoticePreference.objects.update_or_create(user=user, kind=kind, channel=notice_channel,
                                                      defaults={"enabled": enabled, "updated_at": now})
        audit.record(actor=user, owner=user, channel=channel, action="notifications.preferences_changed",
                     target=user, params=changed, ip=ip)


def current_consent(user) -> MarketingConsent | None:
    return MarketingConsent.objects.filter(user=user).order_by("-id").first()


def has_marketing_consent(user) -> bool:
    consent = current_consent(user)
    return bool(consent and consent.granted)


def record_consent(user, *, granted: bool, channel: str, ip: str | None,
                   text_version: str = CONSENT_TEXT_VERSION) -> MarketingConsent:
    """Grant or withdraw consent to marketing messages. Granting must name the text shown (its version)."""
    if granted and text_version != CONSENT_TEXT_VERSION:
        raise PreferenceRefused(_("同意条款已更新，请阅读最新条款后再确认。"), code="stale_consent_text",
                                field="text_version")
    if len(text_version) > MarketingConsent._meta.get_field("text_version").max_length or "\x00" in text_version:
        # A withdrawal names the version it was shown too; one that no version could be is refused, not stored.
        raise PreferenceRefused(_("条款版本无效，请刷新页面后重试。"), code="invalid_text_version",
                                field="text_version")
    current = current_consent(user)
    if current and current.granted == granted and current.text_version == text_version:
        return current  # asking twice for the same answer records nothing new
    with transaction.atomic():
        consent = MarketingConsent.objects.create(user=user, granted=granted, recorded_at=clock.now(),
                                                  channel=channel, ip=ip, text_version=text_version)
        audit.record(actor=user, owner=user, channel=channel, ip=ip, target=consent,
                     action="notifications.consent_granted" if granted else "notifications.consent_withdrawn",
                     params={"text_version": text_version})
    return consent


def wechat_openid(user) -> str:
    binding = WechatBinding.objects.filter(user=user).first()
    return binding.openid if binding else ""


def bind_wechat(user, openid: str, *, actor, channel: str, ip: str | None) -> WechatBinding:
    """Where the user's WeChat notices go: called by the official-account OAuth callback or by staff."""
    openid = openid.strip()
    if not openid or WechatBinding.objects.filter(openid=openid).exclude(user=user).exists():
        raise PreferenceRefused(_("该微信账号无法绑定。"), code="wechat_unavailable", field="openid")
    with transaction.atomic():
        binding, _created = WechatBinding.objects.update_or_create(
            user=user, defaults={"openid": openid, "bound_at": clock.now()})
        audit.record(actor=actor, owner=user, channel=channel, action="notifications.wechat_bound",
                     target=binding, params={}, ip=ip)
    return binding


def unbind_wechat(user, *, channel: str, ip: str | None) -> bool:
    with transaction.atomic():
        deleted, _rows = WechatBinding.objects.filter(user=user).delete()
        if deleted:
            audit.record(actor=user, owner=user, channel=channel, action="notifications.wechat_unbound",
                         target=user, params={}, ip=ip)
    return bool(deleted)
