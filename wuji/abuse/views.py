"""The public complaint form (投诉举报, no login) and the owner's cases in the portal. Views call the services
only; someone else's case is 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from wuji.audit.choices import Channel
from wuji.portal.http import client_ip, paginate

from . import services
from .forms import ComplaintForm, ReplyForm
from .models import Evidence

SESSION_KEY = "abuse_case_number"


def complain(request):
    form = ComplaintForm()
    if request.method == "POST":
        form = ComplaintForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                uploads = [services.upload_from(f) for f in request.FILES.getlist("files")]
                case = services.submit_complaint(
                    category=data["category"], target=data["target"], description=data["description"],
                    reporter_email=data["reporter_email"], reporter_name=data["reporter_name"],
                    reporter_phone=data["reporter_phone"], occurred_at=data["occurred_at"], files=uploads,
                    ip=client_ip(request), channel=Channel.WEB)
            except services.CaseRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                # The number is shown from the session: the page never takes a number, so it reveals nothing.
                request.session[SESSION_KEY] = case.number
                return redirect("abuse:complaint_received")
    return render(request, "abuse/complaint.html", {"form": form}, status=400 if form.errors else 200)


def complaint_received(request):
    number = request.session.get(SESSION_KEY)
    if not number:
        return redirect("abuse:complain")
    return render(request, "abuse/complaint_received.html", {"number": number})


@login_required
def case_list(request):
    return render(request, "abuse/cases.html", {"page": paginate(request, services.cases_of(request.user))})


@login_required
def case_detail(request, pk: int):
    case = get_object_or_404(services.cases_of(request.user), pk=pk)
    form = ReplyForm()
    if request.method == "POST":
        form = ReplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                uploads = [services.upload_from(f) for f in request.FILES.getlist("files")]
                services.reply(case, owner=request.user, text=form.cleaned_data["text"], files=uploads,
                               channel=Channel.WEB, ip=client_ip(request))
            except services.CaseRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("回复已提交，工作人员会尽快处理。"))
                return redirect("abuse:case", pk=case.pk)
    return render(request, "abuse/case.html", {
        "case": case, "form": form, "thread": services.visible_messages(case), "can_reply": services.can_reply(case),
        "actions": case.actions.all(),
    })


@login_required
def evidence_file(request, pk: int):
    """A case file: staff who handle cases see all; an owner only their own reply attachments."""
    row = get_object_or_404(Evidence.objects.select_related("case"), pk=pk, file__gt="")
    if not services.can_handle(request.user) and not services.owner_files(row.case).filter(
            pk=row.pk, case__in=services.cases_of(request.user)).exists():
        raise Http404
    response = HttpResponse(services.file_content(row), content_type=row.content_type)
    response["Content-Disposition"] = f'attachment; filename="evidence-{row.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
