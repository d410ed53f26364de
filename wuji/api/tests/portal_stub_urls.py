"""The API under a URLconf whose portal has the sandbox pay page (the portal builds the real one)."""

from django.http import HttpResponse
from django.urls import include, path


def sandbox_pay_page(request, out_trade_no: str) -> HttpResponse:
    return HttpResponse(out_trade_no)


portal = ([path("wallet/topup/<str:out_trade_no>/pay/", sandbox_pay_page, name="sandbox_pay")], "portal")

urlpatterns = [
    path("api/v1/", include("wuji.api.urls")),
    path("", include(portal)),
]
