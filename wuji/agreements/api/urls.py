from django.urls import path

from . import views

urlpatterns = [
    path("", views.AgreementView.as_view(), name="agreement"),
    path("accept/", views.AgreementAcceptView.as_view(), name="agreement-accept"),
]
