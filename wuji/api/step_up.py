"""Step-up verification over the API (clause 3.1.2): an operation listed in WUJI_STEP_UP carries its own code in
the request body (a TOTP code, or an SMS/e-mail code sent from the portal) — an API key alone is not enough."""

from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from wuji.accounts import services as accounts
from wuji.accounts.step_up import policy

from .errors import ApiError


class StepUpFields(serializers.Serializer):
    """The step-up fields a request body may carry; mix into the operation's serializer."""

    step_up_totp = serializers.CharField(required=False, allow_blank=True, max_length=8,
                                         help_text="a code from the account's authenticator app")
    step_up_code = serializers.CharField(required=False, allow_blank=True, max_length=8,
                                         help_text="an SMS or e-mail step-up code sent from the portal")
    step_up_channel = serializers.ChoiceField(choices=["sms", "email"], required=False)


def step_up_factor(request: Request, body: dict, operation: str) -> str:
    """The factor that authorises `operation` (recorded in the instruction), or 403 `step_up_required` / 400
    `step_up_failed`."""
    if not policy(operation):
        return "none"
    try:
        if body.get("step_up_totp"):
            return accounts.verify_factor(request._request, operation, "totp", body["step_up_totp"])
        if body.get("step_up_code") and body.get("step_up_channel"):
            return accounts.verify_factor(request._request, operation, body["step_up_channel"], body["step_up_code"])
    except accounts.StepUpFailed as exc:
        raise ApiError(str(exc), code="step_up_failed", field="step_up_totp") from exc
    exc = accounts.StepUpRequired(operation, accounts.available_factors(request.user, operation))
    raise PermissionDenied(detail=str(exc), code="step_up_required")
