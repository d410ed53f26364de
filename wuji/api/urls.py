from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from wuji.compute.api.console import ServerConsoleView
from wuji.compute.api.migrations import ServerMigrationsView

from . import data_rights, metrics, snapshots, views

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
