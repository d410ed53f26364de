from rest_framework.routers import SimpleRouter

from . import views, withdrawal_views

router = SimpleRouter()
router.register("bank-transfers", views.BankTransferViewSet, basename="bank-transfer")
router.register("bank-accounts", withdrawal_views.BankAccountViewSet, basename="bank-account")
router.register("withdrawals", withdrawal_views.WithdrawalViewSet, basename="withdrawal")

urlpatterns = router.urls
