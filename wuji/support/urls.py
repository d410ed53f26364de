"""Portal URLs for tickets, included by `wuji.portal.urls` (names live in the `portal` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("<int:pk>/", views.ticket_detail, name="ticket"),
    path("<int:pk>/close/", views.ticket_close, name="ticket_close"),
    path("<int:pk>/reopen/", views.ticket_reopen, name="ticket_reopen"),
    path("<int:pk>/rating/", views.ticket_rate, name="ticket_rate"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment, name="ticket_attachment"),
]
