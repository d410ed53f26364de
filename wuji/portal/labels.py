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
    # finance (issue 4)
    "fapiao.apply": _("申请发票"),
    "fapiao.cancel": _("取消发票申请"),
    "fapiao.issue": _("开具发票"),
    "fapiao.reject": _("驳回发票申请"),
    "fapiao.red_reverse": _("红冲发票"),
    "fapiao.confirm_general_taxpayer": _("确认一般纳税人"),
    "fapiao.revoke_general_taxpayer": _("撤销一般纳税人确认"),
    "contract.apply": _("申请合同"),
    "contract.approve": _("生成合同"),
    "contract.reject": _("驳回合同申请"),
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
    "fapiaoapplication": pgettext_lazy("instruction target", "发票申请"),
    "contract": pgettext_lazy("instruction target", "合同"),
    "generaltaxpayer": pgettext_lazy("instruction target", "一般纳税人确认"),
}


def target_label(target_type: str) -> str:
    label = TARGET_LABELS.get(target_type)
    return str(label) if label is not None else target_type
