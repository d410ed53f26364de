"""Home, the agreement, registration, sign-in and the dashboard."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from wuji.accounts import services as accounts
from wuji.agreements import services as agreements
from wuji.compute import services as compute
from wuji.compute.choices import VmState
from wuji.ledger import services as ledger

from ..forms import EmailAuthenticationForm, RegisterForm
from ..http import client_ip
from .buy import price_table

SUMMARY_STATES = (VmState.ACTIVE, VmState.STOPPED, VmState.BUILDING, VmState.ERROR)


def home(request):
    return render(request, "portal/home.html", {"price_table": price_table()})


def agreement(request):
    version = agreements.current_version()
    if version is None:
        raise Http404(_("当前没有生效的用户协议。"))
    return render(request, "portal/agreement.html", {"agreement": version})


def register(request):
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    current = agreements.current_version()
    if request.method == "POST":
        form = RegisterForm(request.POST)
        if form.is_valid():
            try:
                user = accounts.register_customer(
                    email=form.cleaned_data["email"], password=form.cleaned_data["password1"],
                    accepted_version=form.cleaned_data["agreement_version"], ip=client_ip(request),
                    language="en" if (get_language() or "").startswith("en") else "zh-hans",
                )
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            else:
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                messages.success(request, _("注册成功，欢迎使用武极云。"))
                return redirect("portal:dashboard")
    else:
        form = RegisterForm(initial={"agreement_version": current.version if current else ""})
    return render(request, "portal/register.html", {"form": form, "agreement": current})


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


@login_required
def dashboard(request):
    mine = compute.servers_of(request.user)
    counts = dict(mine.order_by().values_list("vm_state").annotate(n=Count("id")))
    recent = list(mine[:5])
    return render(request, "portal/dashboard.html", {
        "balances": ledger.balances(request.user),
        "servers": recent,
        "server_total": sum(counts.values()),
        "state_counts": [(state, counts.get(state, 0)) for state in SUMMARY_STATES],
        "refresh": any(s.task_state for s in recent),
    })
