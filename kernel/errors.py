"""Domain errors raised by services, mapped once to HTTP for the API and for HTML.

Every refusal carries a human-readable message that says what to do, and a stable `code`
that clients may branch on.
"""

from typing import Any


class ApplicationError(Exception):
    """A rule was broken: the input is wrong for the current state (HTTP 400)."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.message, "code": self.code}
        if self.field:
            body["errors"] = {self.field: [self.message]}
        body.update(self.extra)
        return body


class Forbidden(ApplicationError):
    """The person may not do this (HTTP 403)."""

    status_code = 403
    default_code = "forbidden"


class NotFound(ApplicationError):
    """The object does not exist, or this person may not know it exists (HTTP 404)."""

    status_code = 404
    default_code = "not_found"


class NotAuthenticated(ApplicationError):
    """Nobody valid is asking: no, an unknown or an inactive user's credentials (HTTP 401)."""

    status_code = 401
    default_code = "authentication_failed"


class UnsupportedMedia(ApplicationError):
    """The body is not in a format this endpoint reads (HTTP 415)."""

    status_code = 415
    default_code = "unsupported_media_type"
