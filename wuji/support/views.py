"""Portal: the customer's tickets (工单) — list, new ticket, thread with reply, attachments, close, reopen, rating.
Someone else's ticket or attachment is 404. Views call `support.services` only."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.audit.choices import Channel
from wuji.compute import services as compute
from wuji.portal.http import client_ip, paginate

from . import services
from .forms import RatingForm, ReplyForm, TicketForm, add_refusal
from .models import TicketAttachment

SECTION = {"portal_section": "support"}


@login_required
def ticket_list(request):
    return render(request, "support/tickets.html", {**SECTION, "page": paginate(request, services.tickets_of(
        request.user))})


@login_required
def ticket_new(request):
    servers = compute.servers_of(request.user)
    form = TicketForm(servers=servers)
    if request.method == "POST":
        form = TicketForm(request.POST, request.FILES, servers=servers)
        if form.is_valid():
            data = form.cleaned_data
            try:
                uploads = [services.upload_from(f) for f in data["files"]]
                ticket = services.open_ticket(
                    customer=request.user, category=data["category"], priority=data["priority"],
                    subject=data["subject"], body=data["body"], server=data["server"], files=uploads,
                    channel=Channel.WEB, ip=client_ip(request))
            except services.TicketRefused as exc:
                add_refusal(form, exc)
            else:
                messages.success(request, _("工单已提交，工作人员回复后会通过站内信和邮件通知您。"))
                return redirect("portal:ticket", pk=ticket.pk)
    return render(request, "support/ticket_new.html", {**SECTION, "form": form})


def _detail(request, ticket, *, reply_form=None, rating_form=None, status: int = 200):
    return render(request, "support/ticket.html", {
        **SECTION, "ticket": ticket, "thread": services.customer_messages(ticket),
        "reply_form": reply_form or ReplyForm(), "rating_form": rating_form or RatingForm(),
        "can_reply": services.can_reply(ticket), "can_reopen": services.can_reopen(ticket),
        "can_rate": services.can_rate(ticket),
    }, status=status)


@login_required
def ticket_detail(request, pk: int):
    ticket = get_object_or_404(services.tickets_of(request.user), pk=pk)
    if request.method != "POST":
        return _detail(request, ticket)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            uploads = [services.upload_from(f) for f in form.cleaned_data["files"]]
            services.reply(ticket=ticket, customer=request.user, body=form.cleaned_data["body"], files=uploads,
                           channel=Channel.WEB, ip=client_ip(request))
        except services.TicketRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("回复已发送。"))
            return redirect("portal:ticket", pk=ticket.pk)
    return _detail(request, ticket, reply_form=form)


@login_required
@require_POST
def ticket_rate(request, pk: int):
    ticket = get_object_or_404(services.tickets_of(request.user), pk=pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rate(ticket=ticket, customer=request.user, rating=form.cleaned_data["rating"],
                          comment=form.cleaned_data["comment"], channel=Channel.WEB, ip=client_ip(request))
        except services.TicketRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("感谢您的评价。"))
            return redirect("portal:ticket", pk=ticket.pk)
    return _detail(request, ticket, rating_form=form)


@login_required
@require_POST
def ticket_close(request, pk: int):
    return _simple(request, pk, services.close, _("工单已关闭。"))


@login_required
@require_POST
def ticket_reopen(request, pk: int):
    return _simple(request, pk, services.reopen, _("工单已重新打开。"))


def _simple(request, pk: int, call, done: str):
    ticket = get_object_or_404(services.tickets_of(request.user), pk=pk)
    try:
        call(ticket=ticket, customer=request.user, channel=Channel.WEB, ip=client_ip(request))
    except services.TicketRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("portal:ticket", pk=ticket.pk)


def attachment_response(attachment: TicketAttachment) -> HttpResponse:
    """The decrypted file, as a download (never rendered inline: the bytes come from a customer)."""
    response = HttpResponse(services.attachment_content(attachment), content_type=attachment.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.name, safe='')}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def attachment(request, pk: int, attachment_pk: int):
    ticket = get_object_or_404(services.tickets_of(request.user), pk=pk)
    return attachment_response(get_object_or_404(services.customer_attachments(ticket), pk=attachment_pk))
