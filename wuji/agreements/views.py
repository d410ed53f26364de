"""Portal: the public agreement page (in force, pending, every version) and the acceptance page (clause 11)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from wuji.audit.choices import Channel
from wuji.portal.http import client_ip

from . import services
from .models import AgreementVersion


def agreement(request):
    current = services.current_version()
    if current is None:
        raise Http404(_("当前没有生效的用户协议。"))
    return render(request, "agreements/agreement.html", {
        "agreement": current, "pending": services.pending_version(), "versions": services.versions()})


def version_detail(request, version: str):
    shown = get_object_or_404(AgreementVersion, version=version)
    current = services.current_version()
    return render(request, "agreements/agreement.html", {
        "agreement": shown, "shown_is_current": current is not None and shown.pk == current.pk,
        "versions": services.versions(), "single": True})


def _next_url(request) -> str:
    """The page to return to: the posted or linked URL if it is on this site, else the dashboard. Always a URL,
    never a view name (redirect() would try to reverse a bare word such as "abc" and fail)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return reverse("portal:dashboard")


@login_required
def accept(request):
    current = services.current_version()
    if current is None:
        raise Http404(_("当前没有生效的用户协议。"))
    if not services.needs_acceptance(request.user):
        return HttpResponseRedirect(_next_url(request))
    error = ""
    if request.method == "POST":
        if not request.POST.get("accept_agreement"):
            error = _("请勾选“我已阅读并同意”后再提交。")
        else:
            try:
                services.accept_current(request.user, accepted_version=request.POST.get("agreement_version", ""),
                                        ip=client_ip(request), channel=Channel.WEB)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("您已同意《%(title)s》（%(version)s）。") %
                                 {"title": current.title, "version": current.version})
                return HttpResponseRedirect(_next_url(request))
    return render(request, "agreements/accept.html", {
        "agreement": services.current_version(), "next": request.GET.get("next") or request.POST.get("next", ""),
        "error": error}, status=400 if error else 200)
