from rest_framework.routers import SimpleRouter

from . import freeze_views, views

router = SimpleRouter()
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("freezes", freeze_views.FreezeViewSet, basename="freeze")

urlpatterns = router.urls
