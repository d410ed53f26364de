"""Secrets shown to the customer exactly once (a root password, an API secret).

The value is kept encrypted in the session between the POST that created it and the page that shows it,
and removed as it is shown; it never appears in a URL.
"""

import json

from wuji.core import crypto

PREFIX = "portal.once."


def keep(request, name: str, value) -> None:
    request.session[PREFIX + name] = crypto.encrypt(json.dumps(value))


def pop(request, name: str):
    token = request.session.pop(PREFIX + name, None)
    return json.loads(crypto.decrypt(token)) if token else None


def root_password_key(server_id: int) -> str:
    return f"root_password:{server_id}"
