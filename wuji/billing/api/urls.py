from rest_framework.routers import SimpleRouter

from . import freeze_views, views
from .payg import PaygServerViewSet

router = SimpleRouter()
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("freezes", freeze_views.FreezeViewSet, basename="freeze")
router.register("payg/servers", PaygServerViewSet, basename="payg-server")

urlpatterns = router.urls
