"""The events the platform notifies users of: their templates (Chinese first, English), kind and channels.

An event is declared once here; `services.notify(recipient, event, context)` renders it in the
recipient's language. Mandatory events (legal and security notices) cannot be switched off; marketing
events are sent only with the user's consent and never during quiet hours (decision 0032).
"""

import dataclasses

from .choices import NoticeChannel, NoticeKind


@dataclasses.dataclass(frozen=True)
class Event:
    code: str
    subject_zh: str
    body_zh: str
    subject_en: str
    body_en: str
    channels: tuple[str, ...] = (NoticeChannel.INBOX, NoticeChannel.EMAIL)
    mandatory: bool = False
    kind: str = NoticeKind.SERVICE

    def __post_init__(self):
        if self.kind not in NoticeKind.values():
            raise ValueError(f"event {self.code}: unknown kind {self.kind!r}")
        if self.mandatory and self.kind == NoticeKind.MARKETING:
            raise ValueError(f"event {self.code}: a marketing message cannot be mandatory")


EVENTS: dict[str, Event] = {}


def declare(event: Event) -> Event:
    if event.code in EVENTS:
        raise ValueError(f"event {event.code} declared twice")
    EVENTS[event.code] = event
    return event


def get(code: str) -> Event:
    return EVENTS[code]
