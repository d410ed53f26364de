from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="abuse-case")

urlpatterns = [
    path("complaints/", views.PartnerComplaintView.as_view(), name="abuse-complaints"),
    *router.urls,
]
