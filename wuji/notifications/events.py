"""The events the platform notifies users of: their templates (Chinese first, English) and channels.

An event is declared once here; `services.notify(recipient, event, context)` renders it in the
recipient's language. Mandatory events (legal and security notices) cannot be switched off.
"""

import dataclasses

from .choices import NoticeChannel


@dataclasses.dataclass(frozen=True)
class Event:
    code: str
    subject_zh: str
    body_zh: str
    subject_en: str
    body_en: str
    channels: tuple[str, ...] = (NoticeChannel.INBOX, NoticeChannel.EMAIL)
    mandatory: bool = False


EVENTS: dict[str, Event] = {}


def declare(event: Event) -> Event:
    if event.code in EVENTS:
        raise ValueError(f"event {event.code} declared twice")
    EVENTS[event.code] = event
    return event


def get(code: str) -> Event:
    return EVENTS[code]
