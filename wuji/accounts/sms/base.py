"""The contract every SMS backend meets."""

from dataclasses import dataclass


class SmsError(Exception):
    """The message was not accepted. `code` is the provider's error code (or a local one); `retryable` says
    whether trying again later may succeed (network trouble, throttling) as opposed to a configuration or
    content problem (bad signature, unapproved template)."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class SendResult:
    message_id: str


class SmsBackend:
    """Send one templated SMS to one mainland number.

    `send(phone_e164, template_code, params)`: `phone_e164` is ``+86XXXXXXXXXXX``; `template_code` is the
    vendor's approved template id; `params` maps the template's variables (in declaration order for vendors
    with positional templates) to strings. Returns `SendResult(message_id)` once the vendor accepted the
    message (delivery to the handset is reported later by the vendor); raises `SmsError` otherwise and has
    then sent nothing. Vendors do not deduplicate: the caller must not retry a request that succeeded.
    """

    def send(self, phone_e164: str, template_code: str, params: dict[str, str]) -> SendResult:
        raise NotImplementedError
