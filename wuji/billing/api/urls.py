from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("freezes", views.FreezeViewSet, basename="freeze")

urlpatterns = router.urls
