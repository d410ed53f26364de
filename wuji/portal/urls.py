from allauth.account.views import LogoutView
from django.urls import path

from wuji.identity import views as identity

from .views import accounts, api_keys, buy, inbox, instructions, payg, security, servers, wallet

app_name = "portal"

urlpatterns = [
    path("", accounts.home, name="home"),
    path("agreement/", accounts.agreement, name="agreement"),
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
    path("recover/", security.recover, name="recover"),
    # [billing: subscriptions] portal URLs below

    # [billing: pay-as-you-go] portal URLs below
    path("buy/payg/", payg.payg_buy, name="payg_buy"),
    path("servers/<int:pk>/meter/", payg.payg_meter, name="payg_meter"),

    # [payments: channels] portal URLs below

    # [funds: freezes, appeals, withdrawals] portal URLs below

    # [finance] portal URLs below

]
