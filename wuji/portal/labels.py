"""Customer-facing names of the instruction log's action codes."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuji.compute.choices import Operation

ACTION_LABELS = {
    "account.register": _("注册账户"),
    "order.place": _("购买服务器"),
    "topup.create": _("发起充值"),
    "banktransfer.declare": _("登记对公转账"),
    "banktransfer.confirm": _("确认对公转账到账"),
    "banktransfer.reject": _("驳回对公转账登记"),
    "apikey.create": _("创建 API 密钥"),
    "apikey.revoke": _("吊销 API 密钥"),
}


def action_label(action: str) -> str:
    if action.startswith("server."):
        operation = action.removeprefix("server.")
        if operation in Operation.values():
            return str(Operation.label(operation))
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


TARGET_LABELS = {
    "server": pgettext_lazy("instruction target", "服务器"),
    "topup": pgettext_lazy("instruction target", "充值单"),
    "banktransfer": pgettext_lazy("instruction target", "对公转账登记"),
    "user": pgettext_lazy("instruction target", "账户"),
    "apikey": pgettext_lazy("instruction target", "API 密钥"),
}


def target_label(target_type: str) -> str:
    label = TARGET_LABELS.get(target_type)
    return str(label) if label is not None else target_type
