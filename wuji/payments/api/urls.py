from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("bank-accounts", views.BankAccountViewSet, basename="bank-account")
router.register("withdrawals", views.WithdrawalViewSet, basename="withdrawal")

urlpatterns = router.urls
