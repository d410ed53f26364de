from django.urls import path

from . import views

urlpatterns = [
    path("", views.IdentityView.as_view(), name="identity"),
    path("individual/", views.IndividualView.as_view(), name="identity-individual"),
    path("enterprise/", views.EnterpriseView.as_view(), name="identity-enterprise"),
]
