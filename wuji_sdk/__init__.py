"""Wuji Cloud (武极云) API client: request signing, the client and the `wuji-cli` command.

Standard library only, so it installs anywhere Python 3.11 runs."""

__version__ = "0.1.0"

from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    ApiError,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    ConnectionFailed,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unprocessable,
    UsageError,
)

__all__ = ["ApiError", "AuthenticationFailed", "BadRequest", "Client", "Conflict", "ConnectionFailed", "NotFound",
           "PermissionDenied", "RateLimited", "ServerError", "Unprocessable", "UsageError", "__version__"]
