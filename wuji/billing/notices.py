"""What billing tells customers about their prepaid subscriptions (4.5.2.1). Expiry and release notices are
mandatory and go to the inbox, e-mail and SMS."""

from wuji.notifications.choices import NoticeChannel, NoticeKind
from wuji.notifications.events import Event, declare

ALL_CHANNELS = (NoticeChannel.INBOX, NoticeChannel.EMAIL, NoticeChannel.SMS)

RENEWED = declare(Event(
    code="billing.renewed",
    kind=NoticeKind.BILLING,
    subject_zh="服务器 {{ name }} 已续费",
    body_zh="服务器 {{ name }} 已续费 {{ cycles }} 个周期，扣费 {{ amount }} 元，到期时间延长至 {{ period_end }}。",
    subject_en="Server {{ name }} renewed",
    body_en="Server {{ name }} was renewed for {{ cycles }} cycle(s); {{ amount }} yuan was charged. It now expires "
            "on {{ period_end }}.",
    mandatory=True,
))

AUTO_RENEW_FAILED = declare(Event(
    code="billing.auto_renew_failed",
    kind=NoticeKind.BILLING,
    subject_zh="服务器 {{ name }} 自动续费失败",
    body_zh="服务器 {{ name }} 将于 {{ period_end }} 到期，自动续费需 {{ amount }} 元，但余额不足。"
            "请充值，充值后将立即自动续费；否则服务器将在到期时停机。",
    subject_en="Auto-renewal of server {{ name }} failed",
    body_en="Server {{ name }} expires on {{ period_end }}. Auto-renewal needs {{ amount }} yuan but the balance is "
            "not enough. Top up and it renews at once; otherwise the server stops at expiry.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

EXPIRY_REMINDER = declare(Event(
    code="billing.expiry_reminder",
    kind=NoticeKind.BILLING,
    subject_zh="服务器 {{ name }} 将于 {{ days }} 天内到期",
    body_zh="服务器 {{ name }} 将于 {{ period_end }} 到期。请及时续费（续费价格 {{ amount }} 元/周期），"
            "到期未续费将停机，停机 {{ retention }} 天后释放，数据不可恢复。",
    subject_en="Server {{ name }} expires within {{ days }} day(s)",
    body_en="Server {{ name }} expires on {{ period_end }}. Please renew ({{ amount }} yuan per cycle). If not "
            "renewed it stops at expiry and is released {{ retention }} days later; its data cannot be recovered.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

EXPIRED = declare(Event(
    code="billing.expired",
    kind=NoticeKind.LEGAL,
    subject_zh="服务器 {{ name }} 已到期停机",
    body_zh="服务器 {{ name }} 已于 {{ period_end }} 到期并停机，数据保留至 {{ release_at }}。"
            "在此之前续费即可恢复运行；逾期将释放服务器及其数据。",
    subject_en="Server {{ name }} has expired and is stopped",
    body_en="Server {{ name }} expired on {{ period_end }} and has been stopped. Its data is kept until "
            "{{ release_at }}; renew before then to start it again, or it is released with its data.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

RELEASE_NOTICE = declare(Event(
    code="billing.release_notice",
    kind=NoticeKind.LEGAL,
    subject_zh="服务器 {{ name }} 将于 {{ release_at }} 释放",
    body_zh="已到期的服务器 {{ name }} 将于 {{ release_at }} 释放，释放后数据不可恢复。如需保留，请在此之前续费。",
    subject_en="Server {{ name }} will be released on {{ release_at }}",
    body_en="The expired server {{ name }} will be released on {{ release_at }}; its data cannot be recovered "
            "afterwards. Renew before then to keep it.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

RELEASED = declare(Event(
    code="billing.released",
    kind=NoticeKind.LEGAL,
    subject_zh="服务器 {{ name }} 已释放",
    body_zh="服务器 {{ name }} 到期后未续费，保留期已满，已释放。",
    subject_en="Server {{ name }} has been released",
    body_en="Server {{ name }} was not renewed after expiry; its retention period ended and it has been released.",
    channels=ALL_CHANNELS,
    mandatory=True,
))

PLAN_CHANGED = declare(Event(
    code="billing.plan_changed",
    kind=NoticeKind.BILLING,
    subject_zh="服务器 {{ name }} 已变更配置",
    body_zh="服务器 {{ name }} 的配置已由 {{ old_plan }} 变更为 {{ new_plan }}，{{ money }}。"
            "此后续费价格为 {{ price }} 元/周期。",
    subject_en="Server {{ name }} changed plan",
    body_en="Server {{ name }} changed from {{ old_plan }} to {{ new_plan }}; {{ money }}. Renewals now cost "
            "{{ price }} yuan per cycle.",
    mandatory=True,
))

PROVISIONING_REFUNDED = declare(Event(
    code="billing.provisioning_refunded",
    kind=NoticeKind.BILLING,
    subject_zh="服务器 {{ name }} 开通失败，已全额退款",
    body_zh="很抱歉，服务器 {{ name }} 开通失败。订单款项 {{ amount }} 元已按原支付比例全额退回您的账户余额"
            "（现金 {{ cash }} 元，赠送金 {{ gift }} 元）。",
    subject_en="Server {{ name }} could not be created: refunded in full",
    body_en="We are sorry: server {{ name }} could not be created. The order's {{ amount }} yuan has been refunded "
            "to your balance in the proportion paid (cash {{ cash }} yuan, gift {{ gift }} yuan).",
    mandatory=True,
))
