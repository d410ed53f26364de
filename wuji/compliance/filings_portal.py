"""ICP filings (ICP备案) in the portal: the customer's filings with their review and DNS check, the form to file a
domain on one of their mainland servers, and withdrawal. Included into the portal's URLs (namespace `portal`)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuji.compute import services as compute
from wuji.portal.http import client_ip, paginate

from . import services
from .choices import FilingStatus


class ServerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, server):
        return f"{server.name}（{server.region.name}）"


class FilingForm(forms.Form):
    domain = forms.CharField(
        label=gettext_lazy("域名"), max_length=253,
        help_text=gettext_lazy("已在工信部备案的域名，例如 example.cn 或 中文.cn；其子域名一并放行。"))
    icp_number = forms.CharField(label=gettext_lazy("ICP 备案号"), max_length=40,
                                 help_text=gettext_lazy("例如 京ICP备12345678号-1（不是公安备案号）。"))
    server = ServerChoiceField(label=gettext_lazy("服务器"), queryset=None,
                               help_text=gettext_lazy("网站所在的中国大陆地域服务器；香港及海外地域无需备案。"))

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["server"].queryset = compute.servers_of(owner)


@login_required
def filing_list(request):
    form = FilingForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            filing = services.register_filing(owner=request.user, actor=request.user, channel="web",
                                              ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("已提交域名 %(domain)s 的备案，审核结果会通过站内信通知您。")
                             % {"domain": filing.domain})
            return redirect("portal:icp_filings")
    return render(request, "compliance/icp_filings.html", {
        "form": form, "filings": paginate(request, services.filings_of(request.user)),
        "withdrawable": FilingStatus.LIVE})


@login_required
@require_POST
def filing_withdraw(request, pk: int):
    filing = get_object_or_404(services.filings_of(request.user), pk=pk)
    try:
        services.withdraw_filing(filing, actor=request.user, channel="web", ip=client_ip(request))
    except services.WithdrawRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已撤回域名 %(domain)s 的备案。") % {"domain": filing.domain})
    return redirect("portal:icp_filings")


urlpatterns = [
    path("", filing_list, name="icp_filings"),
    path("<int:pk>/withdraw/", filing_withdraw, name="icp_filing_withdraw"),
]
