"""The wallet: balances, history, and top-ups through the enabled channels (the sandbox is clearly a demo)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wuji.core import money
from wuji.ledger import services as ledger
from wuji.payments import gateways, sandbox
from wuji.payments import services as payments
from wuji.payments.choices import PaymentChannel, TopUpStatus

from ..http import client_ip, paginate
from ..payment_forms import ChannelTopUpForm

# Where the payer goes once the top-up is open.
NEXT_PAGE = {PaymentChannel.SANDBOX: "portal:sandbox_pay", PaymentChannel.ALIPAY: "portal:topup_alipay",
             PaymentChannel.WECHAT: "portal:topup"}


@login_required
def wallet(request):
    channels = payments.online_channels()
    form = ChannelTopUpForm(channels=channels)
    if request.method == "POST":
        if not channels:
            raise Http404
        form = ChannelTopUpForm(request.POST, channels=channels)
        if form.is_valid():
            try:
                topup = payments.create_topup(customer=request.user, amount_fen=form.cleaned_data["amount"],
                                              channel=form.cleaned_data["channel"], ip=client_ip(request))
            except payments.PaymentError as exc:
                form.add_error(exc.field if exc.field in form.fields else "amount", str(exc))
            else:
                return redirect(NEXT_PAGE.get(topup.channel, "portal:topup"), out_trade_no=topup.out_trade_no)
    return render(request, "portal/wallet.html", {
        "balances": ledger.balances(request.user),
        "form": form,
        "channels": channels,
        "bank_transfer": gateways.get(PaymentChannel.BANK).enabled(),
        "page": paginate(request, ledger.transactions_of(request.user)),
        "topups": payments.topups_of(request.user).order_by("-id")[:5],
    })


@login_required
def sandbox_pay(request, out_trade_no: str):
    """The demo gateway's payment page. Paying makes the gateway send its signed notice, which is verified."""
    if not sandbox.enabled():
        raise Http404
    topup = get_object_or_404(payments.topups_of(request.user), out_trade_no=out_trade_no)
    if request.method == "POST":
        if topup.status == TopUpStatus.PAID:
            messages.info(request, _("该充值单已支付。"))
            return redirect("portal:wallet")
        try:
            payments.handle_sandbox_notice(payments.sandbox_pay(topup))
        except payments.PaymentError:
            messages.error(request, _("支付未完成，请重试。"))
            return redirect("portal:sandbox_pay", out_trade_no=topup.out_trade_no)
        messages.success(request, _("充值成功：%(amount)s 已到账。") % {"amount": money.format_cny(topup.amount_fen)})
        return redirect("portal:wallet")
    return render(request, "portal/sandbox_pay.html", {"topup": topup})


@csrf_exempt
@require_POST
def sandbox_notify(request):
    """The sandbox gateway's asynchronous notice (form-encoded, signed). Replies as payment channels expect."""
    try:
        payments.handle_sandbox_notice({key: value for key, value in request.POST.items()})
    except payments.PaymentError:
        return HttpResponseBadRequest("fail", content_type="text/plain")
    return HttpResponse("success", content_type="text/plain")
