"""The in-site inbox (站内信): every notice the platform sent the customer."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from wuji.notifications import services as notifications

from ..http import paginate


@login_required
def inbox(request):
    return render(request, "portal/inbox.html", {"page": paginate(request, notifications.inbox_of(request.user))})


@require_POST
@login_required
def inbox_mark_read(request):
    # ASCII digits only ("²".isdigit() is true, int("²") fails), and no more than an id can hold.
    ids = [int(value) for value in request.POST.getlist("notice") if value.isascii() and value.isdigit()
           and len(value) <= 18]
    if request.POST.get("all"):
        ids = list(notifications.inbox_of(request.user).filter(read_at__isnull=True).values_list("pk", flat=True))
    notifications.mark_read(request.user, ids)
    return redirect("portal:inbox")
