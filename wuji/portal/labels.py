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
    "account.cancel": _("注销账户"),
    "account.cancel_membership": _("注销会员资格"),
    "account.contact_flag": _("联系方式被标记失效"),
    "account.data_export": _("下载我的数据"),
    "account.contact_flag_resolve": _("更正联系方式"),
    "account.contact_restrict": _("因联系方式失效限制账户"),
    "account.profile_update": _("更新个人资料"),
    "account.recover": _("找回账户"),
    "account.report_unauthorised_use": _("报告账户被盗用"),
    "account.security_question_set": _("设置安全问题"),
    "account.session_end": _("结束登录会话"),
    "account.session_end_all": _("结束全部登录会话"),
    "account.unlock": _("解除账户锁定"),
    "account.email_change": _("更换邮箱"),
    "account.phone_reverify": _("重新验证手机号"),
    "identity.submit": _("提交实名认证"),
    "identity.approve": _("实名认证通过"),
    "identity.reject": _("实名认证驳回"),
    "identity.flag_false_information": _("标记虚假信息"),
    "identity.flag_corrected": _("更正实名信息"),
    "identity.restrict": _("限制账户功能"),
    "identity.lift_restriction": _("解除账户限制"),
    "order.place_payg": _("购买按量付费服务器"),
    "payg.settle": _("按量付费结算"),
    "server.release": _("释放服务器"),
    "server.resize": _("变更配置"),
    "server.resume": _("恢复服务"),
    "server.suspend": _("暂停服务"),
    "server.rename": _("重命名服务器"),
    # issue 5: snapshots
    "server.snapshot_create": _("创建快照"),
    "server.snapshot_revert": _("回滚快照"),
    "server.snapshot_delete": _("删除快照"),
    "subscription.auto_renew": _("设置自动续费"),
    "subscription.change_plan": _("升级/降级配置"),
    "subscription.expire": _("服务到期"),
    "subscription.provisioning_refund": _("创建失败退款"),
    "subscription.release": _("到期释放"),
    "subscription.renew": _("续费"),
    "wallet.gift": _("发放赠送金"),
    "funds.freeze": _("冻结资金"),
    "funds.appeal": _("提交冻结申诉"),
    "funds.appeal_uphold": _("申诉成立，解冻"),
    "funds.appeal_reject": _("申诉驳回"),
    "funds.freeze_outcome": _("冻结处理结果"),
    "funds.unfreeze": _("解冻资金"),
    "withdrawal.request": _("申请提现"),
    "withdrawal.approve": _("提现审核通过"),
    "withdrawal.reject": _("提现审核驳回"),
    "withdrawal.cancel": _("取消提现"),
    "refund.failed": _("退款失败"),
    "refund.mark_failed": _("标记退款失败"),
    "refund.mark_paid": _("确认银行打款"),
    "refund.retry": _("重试退款"),
    "bank_account.add": _("添加银行账户"),
    "bank_account.remove": _("删除银行账户"),
    "server.change_ip": _("更换公网 IP"),
    "ip_pool.create": _("创建公网 IP 地址池"),
    "ip_pool.edit": _("修改公网 IP 地址池"),
    # issue 5: migration
    "server.migrate": _("迁移服务器"),
    "migration.schedule": _("安排迁移"),
    "migration.cancel": _("取消迁移"),
    # issue 5: push
    "server.push_offer": _("转让服务器（发起）"),
    "server.push_accept": _("接收服务器转让"),
    "server.push_decline": _("拒绝服务器转让"),
    "server.push_cancel": _("撤回服务器转让"),
    "server.push_expire": _("服务器转让过期"),
    # issue 5: console
    "server.console": _("打开远程控制台"),
    # issue 5: network
    "server.bind_ip": _("绑定公网 IP"),
    "server.unbind_ip": _("解绑公网 IP"),
    "server.blackhole": _("黑洞封堵公网 IP"),
    "server.blackhole_lift": _("解除黑洞封堵"),
    "icp_filing.submit": _("提交 ICP 备案"),
    "icp_filing.approve": _("ICP 备案审核通过"),
    "icp_filing.reject": _("ICP 备案驳回"),
    # issue 6: icp
    "icp_filing.withdraw": _("撤回 ICP 备案"),
    "icp_filing.dns_flagged": _("备案域名解析异常"),
    # issue 6: disclosure
    "disclosure.request": _("申请披露用户数据"),
    "disclosure.approve": _("批准披露用户数据"),
    "disclosure.reject": _("驳回数据披露申请"),
    # issue 6: abuse cases and account restrictions
    "abuse.complaint": _("收到滥用投诉"),
    "abuse.triage": _("受理滥用案件"),
    "abuse.message": _("滥用案件留言"),
    "abuse.reply": _("回复滥用案件"),
    "abuse.close": _("结案"),
    "abuse.reject": _("驳回投诉"),
    "abuse.rule_signal": _("滥用规则告警"),
    "abuse.partner_token": _("签发投诉合作方令牌"),
    "abuse.notify": _("通知持有人限期处理"),
    "abuse.warn": _("警告"),
    "abuse.restrict": _("限制账户功能"),
    "abuse.blackhole": _("解绑公网 IP（黑洞）"),
    "abuse.suspend": _("暂停服务器（滥用）"),
    "abuse.freeze": _("冻结资金"),
    "abuse.terminate": _("终止服务（不予退款）"),
    "account.restrict": _("限制账户功能"),
    "account.restriction_lift": _("解除账户功能限制"),
    "account.retention_purge": _("删除超过保存期限的个人信息"),
    # issue 6: agreements and notices
    "agreement.publish": _("发布协议新版本"),
    "agreement.accept": _("同意协议新版本"),
    "notifications.preferences_changed": _("修改通知设置"),
    "notifications.consent_granted": _("同意接收营销信息"),
    "notifications.consent_withdrawn": _("撤回营销信息同意"),
    "notifications.wechat_bound": _("绑定微信通知"),
    "notifications.wechat_unbound": _("解绑微信通知"),
    # issue 6: support tickets
    "ticket.open": _("提交工单"),
    "ticket.reply": _("回复工单"),
    "ticket.staff_reply": _("客服回复工单"),
    "ticket.note": _("工单内部备注"),
    "ticket.assign": _("分配工单"),
    "ticket.status": _("变更工单状态"),
    "ticket.priority": _("变更工单优先级"),
    "ticket.category": _("变更工单分类"),
    "ticket.close": _("关闭工单"),
    "ticket.autoclose": _("工单自动关闭"),
    "ticket.reopen": _("重新打开工单"),
    "ticket.rate": _("评价工单"),
    # issue 6: announcements, maintenance, incidents, SLA credits
    "announcement.publish": _("发布公告"),
    "announcement.change": _("修改公告"),
    "maintenance.draft": _("起草维护计划"),
    "maintenance.change": _("修改维护计划"),
    "maintenance.publish": _("发布维护通知"),
    "maintenance.extend": _("延长维护时间"),
    "maintenance.cancel": _("取消维护"),
    "incident.open": _("发布故障事件"),
    "incident.update": _("更新故障进展"),
    "sla.propose": _("核算 SLA 赔偿"),
    "sla.reject": _("驳回 SLA 赔偿"),
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
    "migrationplan": pgettext_lazy("instruction target", "迁移计划"),  # issue 5: migration
    "icpfiling": pgettext_lazy("instruction target", "ICP 备案"),
}


def target_label(target_type: str) -> str:
    label = TARGET_LABELS.get(target_type)
    return str(label) if label is not None else target_type
