from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("inbox", views.InboxViewSet, basename="notice")

urlpatterns = [
    path("preferences/", views.PreferencesView.as_view(), name="notification-preferences"),
    path("consent/", views.ConsentView.as_view(), name="notification-consent"),
    *router.urls,
]
