from rest_framework.routers import SimpleRouter

from .payg import PaygServerViewSet

router = SimpleRouter()
router.register("payg/servers", PaygServerViewSet, basename="payg-server")

urlpatterns = router.urls
