from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from wuji.abuse.api.owner_files import CaseFileDownloadView, CaseFileListView
from wuji.agreements.api.versions import AgreementVersionViewSet
from wuji.billing.api.renewal_quote import RenewalQuoteView
from wuji.compute.api.console import ServerConsoleView
from wuji.compute.api.migrations import ServerMigrationsView
from wuji.network.api import views as network_views
from wuji.payments.api.rules import WithdrawalRulesView
from wuji.status.api import views as status_views

from . import account_views, catalog_views, data_rights, metrics, snapshots, views

app_name = "api"

router = SimpleRouter()
router.register("catalog/regions", views.RegionViewSet, basename="region")
router.register("catalog/plans", views.PlanViewSet, basename="plan")
router.register("catalog/images", views.ImageViewSet, basename="image")
router.register("catalog/prices", views.PriceViewSet, basename="price")
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("topups", views.TopUpViewSet, basename="topup")
router.register("orders", views.OrderViewSet, basename="order")
router.register("servers", views.ServerViewSet, basename="server")
router.register("account/login-records", views.LoginRecordViewSet, basename="login-record")
router.register("account/sessions", views.SessionViewSet, basename="session")
router.register("instructions", views.InstructionViewSet, basename="instruction")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # issue 7: cover — the portal's remaining customer operations (docs/api-coverage.md, decision 0044). Kept ahead
    # of the includes: withdrawals/rules/ must not be read as a withdrawal's id.
    path("account/api-keys/", account_views.ApiKeyViewSet.as_view({"get": "list"}), name="api-key-list"),
    path("account/api-keys/<int:pk>/", account_views.ApiKeyViewSet.as_view({"get": "retrieve"}),
         name="api-key-detail"),
    path("account/api-keys/<int:pk>/revoke/", account_views.ApiKeyViewSet.as_view({"post": "revoke"}),
         name="api-key-revoke"),
    path("account/restrictions/", account_views.RestrictionListView.as_view(), name="account-restrictions"),
    path("account/security/", account_views.SecurityView.as_view(), name="account-security"),
    path("account/sessions/end-all/", account_views.SessionEndAllView.as_view(), name="session-end-all"),
    path("catalog/hourly-prices/", catalog_views.HourlyPriceViewSet.as_view({"get": "list"}), name="hourly-price-list"),
    path("ips/", network_views.PublicIpListView.as_view(), name="public-ip-list"),
    path("servers/<int:pk>/ip/", network_views.ServerIpView.as_view(), name="server-ip"),
    path("servers/<int:pk>/maintenance/", status_views.ServerMaintenanceView.as_view(), name="server-maintenance"),
    path("announcements/", status_views.AnnouncementViewSet.as_view({"get": "list"}), name="announcement-list"),
    path("announcements/<int:pk>/", status_views.AnnouncementViewSet.as_view({"get": "retrieve"}),
         name="announcement-detail"),
    path("status/", status_views.StatusView.as_view(), name="status"),
    path("agreement/versions/", AgreementVersionViewSet.as_view({"get": "list"}), name="agreement-version-list"),
    path("agreement/versions/<str:version>/", AgreementVersionViewSet.as_view({"get": "retrieve"}),
         name="agreement-version-detail"),
    path("abuse/cases/<int:pk>/files/", CaseFileListView.as_view(), name="abuse-case-files"),
    path("abuse/cases/<int:pk>/files/<int:file_pk>/", CaseFileDownloadView.as_view(), name="abuse-case-file"),
    path("withdrawals/rules/", WithdrawalRulesView.as_view(), name="withdrawal-rules"),
    path("subscriptions/<int:pk>/renewal-quote/", RenewalQuoteView.as_view(), name="subscription-renewal-quote"),
    # end issue 7: cover
    path("catalog/quote/", views.QuoteView.as_view(), name="quote"),
    path("balance/", views.BalanceView.as_view(), name="balance"),
    path("instructions/export.csv", views.InstructionExportView.as_view(), name="instruction-export"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("account/profile/", views.AccountProfileView.as_view(), name="account-profile"),
    path("identity/", include("wuji.identity.api.urls")),
    # issue 6: datarights
    path("account/data-export/", data_rights.DataExportView.as_view(), name="account-data-export"),
    path("account/cancel/", data_rights.AccountCancelView.as_view(), name="account-cancel"),
    # Money: subscriptions, pay-as-you-go servers and freezes (billing); bank transfers, bank accounts and
    # withdrawals (payments); fapiao and contracts (finance).
    path("", include("wuji.billing.api.urls")),
    path("", include("wuji.payments.api.urls")),
    path("finance/", include("wuji.finance.api.urls")),
    # issue 5: metrics
    path("servers/<int:pk>/metrics/", metrics.ServerMetricsView.as_view(), name="server-metrics"),
    # issue 5: push
    path("", include("wuji.compute.api.push")),
    # issue 5: snapshots
    path("servers/<int:server_pk>/snapshots/",
         snapshots.SnapshotViewSet.as_view({"get": "list", "post": "create"}), name="server-snapshot-list"),
    path("servers/<int:server_pk>/snapshots/<int:pk>/",
         snapshots.SnapshotViewSet.as_view({"get": "retrieve", "delete": "destroy"}), name="server-snapshot-detail"),
    path("servers/<int:server_pk>/snapshots/<int:pk>/revert/",
         snapshots.SnapshotViewSet.as_view({"post": "revert"}), name="server-snapshot-revert"),
    # issue 5: console
    path("servers/<int:pk>/console/", ServerConsoleView.as_view(), name="server-console"),
    # issue 5: migview
    path("servers/<int:pk>/migrations/", ServerMigrationsView.as_view(), name="server-migrations"),
    # issue 6: agreements
    path("agreement/", include("wuji.agreements.api.urls")),
    # issue 6: tickets
    path("", include("wuji.support.api.urls")),
    # issue 6: notify
    path("notifications/", include("wuji.notifications.api.urls")),
    # issue 6: icp
    path("", include("wuji.compliance.api")),
    # issue 6: cases
    path("abuse/", include("wuji.abuse.api.urls")),
    path("", include(router.urls)),
]
