"""Portal: 发票与合同 — the invoiceable amount and debt, the fapiao title, applying and cancelling, contracts, and
the owner's own PDFs (someone else's: 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.billing import services as billing
from wuji.notifications import services as notifications
from wuji.portal.http import client_ip

from . import services
from .choices import ContractStatus, FapiaoStatus
from .forms import ContractForm, FapiaoForm


def _add_errors(form, message_dict: dict) -> None:
    for field, errors in message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _page(request, context: dict):
    context.update(portal_section="finance",
                   unread_notices=notifications.inbox_of(request.user).filter(read_at__isnull=True).count())
    return render(request, "finance/finance.html", context)


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def finance(request):
    """The page, and applying for a fapiao (POST)."""
    user = request.user
    title = services.title_of(user)
    allowed = title.allowed_types if title else None
    form = FapiaoForm(allowed_types=allowed)
    if request.method == "POST":
        form = FapiaoForm(request.POST, allowed_types=allowed)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.apply_for_fapiao(
                    user, amount_fen=data["amount"], fapiao_type=data["fapiao_type"], medium=data["medium"],
                    email=data["email"], mailing_address=data["mailing_address"],
                    registered_address=data["registered_address"], registered_phone=data["registered_phone"],
                    bank_name=data["bank_name"], bank_account=data["bank_account"],
                    idempotency_key=data["idempotency_key"], channel="web", ip=client_ip(request))
            except ValidationError as exc:
                _add_errors(form, exc.message_dict)
            else:
                messages.success(request, _("发票申请已提交，请等待财务人员开具。"))
                return redirect("portal:finance")
    return _page(request, {
        "summary": services.summary(user),
        "title": title,
        "form": form,
        "contract_form": ContractForm(orders=billing.orders_of(user)),
        "applications": services.applications_of(user)[:50],
        "contracts": services.contracts_of(user)[:50],
    })


@login_required
@require_POST
def fapiao_cancel(request, pk: int):
    application = get_object_or_404(services.applications_of(request.user), pk=pk)
    try:
        services.cancel_application(application, request.user, channel="web", ip=client_ip(request))
    except services.FinanceRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("发票申请已取消。"))
    return redirect("portal:finance")


@login_required
def fapiao_pdf(request, pk: int):
    application = get_object_or_404(
        services.applications_of(request.user).filter(status__in=[FapiaoStatus.ISSUED, FapiaoStatus.REVERSED])
        .exclude(pdf=""), pk=pk)
    return _pdf_response(services.fapiao_pdf(application), f"fapiao-{application.fapiao_number}.pdf")


@login_required
@require_POST
def contract_apply(request):
    form = ContractForm(request.POST, orders=billing.orders_of(request.user))
    if not form.is_valid():
        raise Http404  # not one of the caller's orders
    try:
        services.apply_for_contract(request.user, order=form.cleaned_data["order"], channel="web",
                                    ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("合同申请已提交，审核通过后可下载。"))
    return redirect("portal:finance")


@login_required
def contract_pdf(request, pk: int):
    contract = get_object_or_404(services.contracts_of(request.user).filter(status=ContractStatus.APPROVED), pk=pk)
    return _pdf_response(services.contract_pdf(contract), f"{contract.number}.pdf")
