"""The default SMS backend: writes each message to the log and keeps it in an in-memory outbox (like
Django's locmem e-mail backend), so demos and tests can read the codes without a vendor account."""

import itertools
import logging
from dataclasses import dataclass

from .base import SendResult, SmsBackend

logger = logging.getLogger("wuji.sms")


@dataclass(frozen=True)
class OutboxMessage:
    phone: str
    template_code: str
    params: dict
    message_id: str


outbox: list[OutboxMessage] = []
_ids = itertools.count(1)


class LogSmsBackend(SmsBackend):
    def send(self, phone_e164: str, template_code: str, params: dict[str, str]) -> SendResult:
        message_id = f"log-{next(_ids)}"
        outbox.append(OutboxMessage(phone_e164, template_code, dict(params), message_id))
        logger.info("SMS to %s template=%s params=%s id=%s", phone_e164, template_code, params, message_id)
        return SendResult(message_id=message_id)
