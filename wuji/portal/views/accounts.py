"""Home, registration, sign-in and the dashboard."""

from allauth.account.internal.flows.signup import complete_signup
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from wuji.accounts import services as accounts
from wuji.agreements import services as agreements
from wuji.compute import services as compute
from wuji.compute.choices import VmState
from wuji.ledger import services as ledger

from ..forms import RegisterForm
from ..http import client_ip
from .buy import price_table

SUMMARY_STATES = (VmState.ACTIVE, VmState.STOPPED, VmState.BUILDING, VmState.ERROR)


def home(request):
    return render(request, "portal/home.html", {"price_table": price_table()})


def _send_register_code(request, form) -> None:
    """The register page's "send code" button: an SMS code for the number typed, through the OTP service."""
    from wuji.accounts import otp

    try:
        issued = otp.issue_code(purpose="register", channel="sms", address=request.POST.get("phone", ""),
                                ip=client_ip(request))
    except ValidationError as exc:
        form.add_error("phone", exc.messages)
    except otp.RateLimited as exc:
        form.add_error("phone", exc.message)
    else:
        messages.info(request, _("验证码已发送至 %(phone)s，5 分钟内有效。") % {"phone": issued.masked_address})


def register(request):
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    current = agreements.current_version()
    if request.method == "POST" and "send_code" in request.POST:
        form = RegisterForm(request.POST)
        form.errors.clear()  # only the phone number matters for sending the code
        _send_register_code(request, form)
    elif request.method == "POST":
        form = RegisterForm(request.POST)
        if form.is_valid():
            try:
                user = accounts.register_customer(
                    email=form.cleaned_data["email"], password=form.cleaned_data["password1"],
                    accepted_version=form.cleaned_data["agreement_version"], ip=client_ip(request),
                    language="en" if (get_language() or "").startswith("en") else "zh-hans",
                    phone=form.cleaned_data["phone"], phone_code=form.cleaned_data["phone_code"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            else:
                messages.success(request, _("注册成功，欢迎使用武极云。"))
                # allauth's sign-up completion: e-mail verification per ACCOUNT_EMAIL_VERIFICATION, then login.
                return complete_signup(request, user=user, redirect_url=reverse("portal:dashboard"))
    else:
        form = RegisterForm(initial={"agreement_version": current.version if current else ""})
    return render(request, "portal/register.html", {"form": form, "agreement": current})


def login_redirect(request):
    """The portal's sign-in address, kept for old links: sign-in is allauth's page."""
    query = request.GET.urlencode()
    return redirect(reverse("account_login") + (f"?{query}" if query else ""))


@login_required
def dashboard(request):
    mine = compute.servers_of(request.user)
    counts = dict(mine.order_by().values_list("vm_state").annotate(n=Count("id")))
    recent = list(mine.select_related("subscription")[:5])
    return render(request, "portal/dashboard.html", {
        "balances": ledger.balances(request.user),
        "servers": recent,
        "server_total": sum(counts.values()),
        "state_counts": [(state, counts.get(state, 0)) for state in SUMMARY_STATES],
        "refresh": any(s.task_state for s in recent),
    })
