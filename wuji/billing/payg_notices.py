"""What pay-as-you-go billing tells customers (4.5.2.1). Arrears, suspension and release are mandatory notices:
inbox, e-mail and SMS, and cannot be switched off."""

from wuji.notifications.choices import NoticeChannel, NoticeKind
from wuji.notifications.events import Event, declare

ALL_CHANNELS = (NoticeChannel.INBOX, NoticeChannel.EMAIL, NoticeChannel.SMS)

LOW_BALANCE = declare(Event(
    code="billing.payg_low_balance",
    kind=NoticeKind.BILLING,
    subject_zh="余额预警：可用余额不足 {{ hours }} 小时的按量付费消费",
    body_zh="您的可用余额 {{ balance }} 元按当前每小时 {{ spend }} 元的按量付费消费，预计不足 {{ hours }} 小时。"
            "余额耗尽后服务器将在宽限期后暂停服务，请及时充值。",
    subject_en="Low balance: less than {{ hours }} hours of pay-as-you-go usage left",
    body_en="Your available balance of ¥{{ balance }} covers less than {{ hours }} hours of your current "
            "pay-as-you-go spend of ¥{{ spend }} per hour. When it runs out, your servers are suspended after a "
            "grace period. Please top up.",
))

ARREARS = declare(Event(
    code="billing.payg_arrears",
    kind=NoticeKind.BILLING,
    subject_zh="您已欠费，服务器 {{ name }} 将于 {{ suspend_at }} 暂停服务",
    body_zh="您的余额已不足以支付按量付费服务器 {{ name }} 的费用，欠费 {{ debt }} 元。"
            "请在 {{ suspend_at }} 前充值，否则服务器将暂停服务。",
    subject_en="Your account is in arrears: server {{ name }} will be suspended at {{ suspend_at }}",
    body_en="Your balance no longer covers pay-as-you-go server {{ name }}; ¥{{ debt }} is unpaid. Top up before "
            "{{ suspend_at }} or the server will be suspended.",
    channels=ALL_CHANNELS, mandatory=True,
))

SUSPENDED = declare(Event(
    code="billing.payg_suspended",
    kind=NoticeKind.LEGAL,
    subject_zh="服务器 {{ name }} 因欠费已暂停服务",
    body_zh="服务器 {{ name }} 因欠费 {{ debt }} 元已暂停服务，数据保留至 {{ release_at }}。"
            "充值结清欠费后将自动恢复；逾期未结清，服务器及数据将被释放且无法恢复。",
    subject_en="Server {{ name }} suspended for arrears",
    body_en="Server {{ name }} has been suspended because ¥{{ debt }} is unpaid. Its data is kept until "
            "{{ release_at }}. Paying the arrears resumes it automatically; after that date the server and its "
            "data are released for good.",
    channels=ALL_CHANNELS, mandatory=True,
))

RELEASE_SOON = declare(Event(
    code="billing.payg_release_soon",
    kind=NoticeKind.LEGAL,
    subject_zh="服务器 {{ name }} 将于 {{ release_at }} 释放",
    body_zh="服务器 {{ name }} 因欠费暂停服务，将于 {{ release_at }} 释放，数据无法恢复。"
            "请尽快充值结清欠费 {{ debt }} 元。",
    subject_en="Server {{ name }} will be released at {{ release_at }}",
    body_en="Server {{ name }}, suspended for arrears, will be released at {{ release_at }} and its data cannot be "
            "recovered. Pay the ¥{{ debt }} in arrears to keep it.",
    channels=ALL_CHANNELS, mandatory=True,
))

RELEASED = declare(Event(
    code="billing.payg_released",
    kind=NoticeKind.LEGAL,
    subject_zh="服务器 {{ name }} 已因欠费释放",
    body_zh="服务器 {{ name }} 欠费超过保留期，已释放，数据已删除。尚欠 {{ debt }} 元将在您下次充值时扣除。",
    subject_en="Server {{ name }} released for arrears",
    body_en="Server {{ name }} stayed in arrears past the retention period and has been released; its data is "
            "deleted. The ¥{{ debt }} still unpaid will be collected from your next top-up.",
    channels=ALL_CHANNELS, mandatory=True,
))
