from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("bank-transfers", views.BankTransferViewSet, basename="bank-transfer")

urlpatterns = router.urls
