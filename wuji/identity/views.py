"""Portal: the real-name verification page (实名认证) and the owner's own uploaded document."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from wuji.portal.http import client_ip

from . import services
from .choices import VerificationKind
from .forms import EnterpriseForm, IndividualForm, add_service_errors


@login_required
def identity(request):
    individual, enterprise = IndividualForm(prefix="individual"), EnterpriseForm(prefix="enterprise")
    kind = request.POST.get("kind") if request.method == "POST" else None
    if kind == VerificationKind.INDIVIDUAL:
        individual = IndividualForm(request.POST, request.FILES, prefix="individual")
        if individual.is_valid():
            data = individual.cleaned_data
            try:
                services.submit_individual(request.user, name=data["name"], id_number=data["id_number"],
                                           document=data["document"], channel="web", ip=client_ip(request))
            except ValidationError as exc:
                add_service_errors(individual, exc.message_dict)
            else:
                messages.success(request, _("实名认证申请已提交，请等待审核。"))
                return redirect("portal:identity")
    elif kind == VerificationKind.ENTERPRISE:
        enterprise = EnterpriseForm(request.POST, request.FILES, prefix="enterprise")
        if enterprise.is_valid():
            data = enterprise.cleaned_data
            try:
                services.submit_enterprise(
                    request.user, company_name=data["company_name"], credit_code=data["credit_code"],
                    legal_representative=data["legal_representative"], document=data["document"], channel="web",
                    ip=client_ip(request))
            except ValidationError as exc:
                add_service_errors(enterprise, exc.message_dict)
            else:
                messages.success(request, _("企业认证申请已提交，请等待审核。"))
                return redirect("portal:identity")
    state = services.status_of(request.user)
    approved = state.approved
    return render(request, "identity/identity.html", {
        "state": state,
        "individual_form": individual,
        "enterprise_form": enterprise,
        "active_kind": kind or (VerificationKind.ENTERPRISE if approved and approved.kind == VerificationKind.ENTERPRISE
                                else VerificationKind.INDIVIDUAL),
        "can_individual": not (approved and approved.kind == VerificationKind.ENTERPRISE),
        "history": services.verifications_of(request.user)[:10],
    })


@login_required
def document(request, pk: int):
    """The owner's own uploaded document, decrypted. Someone else's: 404."""
    verification = get_object_or_404(services.verifications_of(request.user).exclude(document=""), pk=pk)
    data, content_type = services.document_of(verification)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response
