from django.urls import path

from . import views

app_name = "status"

urlpatterns = [
    path("status/", views.status_page, name="status"),
    path("status.json", views.status_json, name="status_json"),
    path("announcements/", views.announcements, name="announcements"),
    path("announcements/<int:pk>/", views.announcement, name="announcement"),
    path("announcements/<int:pk>/dismiss/", views.dismiss_announcement, name="dismiss_announcement"),
]
