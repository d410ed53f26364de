from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("fapiao", views.FapiaoViewSet, basename="fapiao")
router.register("contracts", views.ContractViewSet, basename="contract")

urlpatterns = [
    path("invoiceable/", views.InvoiceableView.as_view(), name="finance-invoiceable"),
    *router.urls,
]
