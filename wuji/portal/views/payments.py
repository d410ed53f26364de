"""Paying top-ups through the channels (Alipay, WeChat Pay), bank-transfer declarations, and the channels'
asynchronous notices. Every change is a payments service call."""

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wuji.payments import gateways
from wuji.payments import services as payments
from wuji.payments.choices import PaymentChannel, TopUpStatus

from ..http import client_ip, paginate
from ..payment_forms import BankTransferForm


def qr_svg(data: str) -> str:
    """An inline SVG QR code (qrcode is already installed for allauth's TOTP enrolment; no image library)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


@login_required
def topup_list(request):
    return render(request, "portal/topups.html", {
        "page": paginate(request, payments.topups_of(request.user).order_by("-id")),
    })


@login_required
def topup_detail(request, out_trade_no: str):
    """A top-up's status and how to pay it. While it is pending the page refreshes itself."""
    topup = get_object_or_404(payments.topups_of(request.user), out_trade_no=out_trade_no)
    pay = payments.payment_request(topup)
    qr = mark_safe(qr_svg(pay.code_url)) if pay and pay.code_url else ""  # noqa: S308  (our own SVG)
    waiting = topup.status == TopUpStatus.PENDING and topup.channel == PaymentChannel.WECHAT and not pay \
        and not topup.channel_error
    return render(request, "portal/topup.html", {"topup": topup, "pay": pay, "qr": qr, "waiting": waiting,
                                                 "refresh": topup.status == TopUpStatus.PENDING})


@login_required
def topup_alipay(request, out_trade_no: str):
    """Send the payer to Alipay's cashier with a freshly signed page-pay request."""
    topup = get_object_or_404(payments.topups_of(request.user), out_trade_no=out_trade_no,
                              channel=PaymentChannel.ALIPAY)
    pay = payments.payment_request(topup)
    if pay is None or not pay.pay_url:
        messages.error(request, _("该充值单当前无法支付。"))
        return redirect("portal:topup", out_trade_no=topup.out_trade_no)
    return redirect(pay.pay_url)


@login_required
def bank_transfer(request):
    if not gateways.get(PaymentChannel.BANK).enabled():
        raise Http404
    form = BankTransferForm()
    if request.method == "POST":
        form = BankTransferForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            receipt = data["receipt"].read() if data.get("receipt") else None
            try:
                transfer = payments.declare_bank_transfer(
                    customer=request.user, amount_fen=data["amount"], payer_name=data["payer_name"],
                    payer_bank=data["payer_bank"], transfer_date=data["transfer_date"], reference=data["reference"],
                    receipt=receipt, ip=client_ip(request))
            except payments.PaymentError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("已登记转账 %(no)s，财务确认到账后将为您入账。") % {"no": transfer.number})
                return redirect("portal:bank_transfer")
    return render(request, "portal/bank_transfer.html", {
        "form": form, "account": payments.bank_account(),
        "page": paginate(request, payments.bank_transfers_of(request.user).order_by("-id")),
    })


@csrf_exempt
@require_POST
def alipay_notify(request):
    """Alipay's asynchronous notice: answer the plain text "success" once handled, "fail" otherwise."""
    if payments.receive_alipay_notice(request.POST.dict(), ip=client_ip(request)):
        return HttpResponse("success", content_type="text/plain")
    return HttpResponse("fail", content_type="text/plain", status=400)


@csrf_exempt
@require_POST
def wechat_notify(request):
    """WeChat Pay's callback: 200 with a JSON success once handled, 4xx with a JSON error otherwise."""
    if payments.receive_wechat_notice(request.headers, request.body, ip=client_ip(request)):
        return JsonResponse({"code": "SUCCESS", "message": "成功"})
    return JsonResponse({"code": "FAIL", "message": "失败"}, status=400)
