from allauth.account.views import LogoutView
from django.urls import include, path

from wuji.agreements import views as agreements
from wuji.finance import views as finance
from wuji.identity import views as identity
from wuji.notifications import views as notifications

from .views import (
    accounts,
    api_keys,
    buy,
    console,
    funds,
    inbox,
    instructions,
    network,
    payg,
    payments,
    push,
    security,
    servers,
    snapshots,
    subscriptions,
    wallet,
)

app_name = "portal"

urlpatterns = [
    path("", accounts.home, name="home"),
    # issue 6: agreements
    path("agreement/", agreements.agreement, name="agreement"),
    path("agreement/accept/", agreements.accept, name="agreement_accept"),
    path("agreement/versions/<str:version>/", agreements.version_detail, name="agreement_version"),
    path("register/", accounts.register, name="register"),
    path("login/", accounts.login_redirect, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("dashboard/", accounts.dashboard, name="dashboard"),
    path("wallet/", wallet.wallet, name="wallet"),
    path("wallet/topup/<str:out_trade_no>/pay/", wallet.sandbox_pay, name="sandbox_pay"),
    path("payments/notify/sandbox/", wallet.sandbox_notify, name="sandbox_notify"),
    path("buy/", buy.buy, name="buy"),
    path("buy/confirm/", buy.buy_confirm, name="buy_confirm"),
    path("servers/", servers.server_list, name="servers"),
    path("servers/<int:pk>/", servers.server_detail, name="server"),
    path("servers/<int:pk>/action/", servers.server_action, name="server_action"),
    # issue 5: network
    path("servers/<int:pk>/ip/", network.server_ip_action, name="server_ip_action"),
    path("instructions/", instructions.instruction_list, name="instructions"),
    path("instructions/export.csv", instructions.instruction_csv, name="instructions_csv"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read/", inbox.inbox_mark_read, name="inbox_mark_read"),
    path("api-keys/", api_keys.api_key_list, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("identity/", identity.identity, name="identity"),
    path("identity/<int:pk>/document/", identity.document, name="identity_document"),
    path("security/", security.overview, name="security"),
    path("security/profile/", security.profile, name="profile"),
    path("security/contact/<str:kind>/", security.contact_change, name="contact_change"),
    path("security/question/", security.question, name="security_question"),
    path("security/sessions/", security.session_list, name="sessions"),
    path("security/sessions/<int:pk>/end/", security.session_end, name="session_end"),
    path("security/sessions/end-all/", security.session_end_all, name="session_end_all"),
    path("security/login-records/", security.login_records, name="login_records"),
    path("security/report/", security.report_unauthorised, name="report_unauthorised"),
    path("security/verify/", security.step_up, name="step_up"),
    # issue 6: datarights
    path("security/my-data/", security.data_export, name="data_export"),
    path("security/cancel/", security.cancel_account, name="cancel_account"),
    path("recover/", security.recover, name="recover"),
    # issue 6: tickets
    path("support/tickets/", include("wuji.support.urls")),
    # issue 6: notify
    path("security/notifications/", notifications.notification_settings, name="notification_settings"),
    # Billing: subscriptions
    path("subscriptions/<int:pk>/renew/", subscriptions.renew, name="subscription_renew"),
    path("subscriptions/<int:pk>/auto-renew/", subscriptions.auto_renew, name="subscription_auto_renew"),
    path("subscriptions/<int:pk>/change-plan/", subscriptions.change_plan, name="subscription_change_plan"),
    # Billing: pay-as-you-go
    path("buy/payg/", payg.payg_buy, name="payg_buy"),
    path("servers/<int:pk>/meter/", payg.payg_meter, name="payg_meter"),
    # Payments: channels
    path("wallet/topups/", payments.topup_list, name="topups"),
    path("wallet/topups/<str:out_trade_no>/", payments.topup_detail, name="topup"),
    path("wallet/topups/<str:out_trade_no>/alipay/", payments.topup_alipay, name="topup_alipay"),
    path("wallet/bank-transfer/", payments.bank_transfer, name="bank_transfer"),
    path("payments/notify/alipay/", payments.alipay_notify, name="alipay_notify"),
    path("payments/notify/wechat/", payments.wechat_notify, name="wechat_notify"),
    # Funds: freezes, appeals, withdrawals
    path("wallet/freezes/", funds.freeze_list, name="freezes"),
    path("wallet/freezes/<int:pk>/", funds.freeze_detail, name="freeze"),
    path("wallet/withdraw/", funds.withdraw, name="withdraw"),
    path("wallet/withdrawals/<int:pk>/cancel/", funds.withdrawal_cancel, name="withdrawal_cancel"),
    path("wallet/bank-accounts/", funds.bank_account_add, name="bank_account_add"),
    path("wallet/bank-accounts/<int:pk>/remove/", funds.bank_account_remove, name="bank_account_remove"),
    # Finance
    path("finance/", finance.finance, name="finance"),
    path("finance/fapiao/<int:pk>/cancel/", finance.fapiao_cancel, name="fapiao_cancel"),
    path("finance/fapiao/<int:pk>/pdf/", finance.fapiao_pdf, name="fapiao_pdf"),
    path("finance/contracts/apply/", finance.contract_apply, name="contract_apply"),
    path("finance/contracts/<int:pk>/pdf/", finance.contract_pdf, name="contract_pdf"),
    # issue 5: push
    path("servers/<int:pk>/push/", push.push_offer, name="push_offer"),
    path("pushes/", push.push_list, name="pushes"),
    path("pushes/<int:pk>/accept/", push.push_accept, name="push_accept"),
    path("pushes/<int:pk>/decline/", push.push_decline, name="push_decline"),
    path("pushes/<int:pk>/cancel/", push.push_cancel, name="push_cancel"),
    # issue 5: snapshots
    path("servers/<int:pk>/snapshots/", snapshots.snapshot_create, name="snapshot_create"),
    path("servers/<int:pk>/snapshots/<int:snapshot_pk>/revert/", snapshots.snapshot_revert, name="snapshot_revert"),
    path("servers/<int:pk>/snapshots/<int:snapshot_pk>/delete/", snapshots.snapshot_delete, name="snapshot_delete"),
    # issue 5: console
    path("servers/<int:pk>/console/", console.server_console, name="server_console"),
    # issue 6: icp
    path("icp-filings/", include("wuji.compliance.filings_portal")),
]
