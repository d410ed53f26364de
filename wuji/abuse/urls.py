from django.urls import path

from . import views

app_name = "abuse"

urlpatterns = [
    path("abuse/", views.complain, name="complain"),
    path("abuse/received/", views.complaint_received, name="complaint_received"),
    path("abuse/cases/", views.case_list, name="cases"),
    path("abuse/cases/<int:pk>/", views.case_detail, name="case"),
    path("abuse/files/<int:pk>/", views.evidence_file, name="file"),
]
