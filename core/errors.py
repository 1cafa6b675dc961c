"""Errors the services raise. NotAllowed is Django's PermissionDenied and NotVisible its
Http404, so pages and the API answer 403 and 404 without catching them; ServiceError
(400) and Conflict (409) carry the message the page or the API shows."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import ngettext


class ServiceError(Exception):
    status = 400

    def __init__(self, message, *, code="invalid", details=None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.details = details or {}


class RuleNotMet(ServiceError):
    """A workflow guard failed; `rules` lists (code, message) of every unmet rule."""

    def __init__(self, rules):
        self.rules = list(rules)
        message = " ".join(str(m) for _, m in self.rules)
        super().__init__(message, code=self.rules[0][0] if self.rules else "rule")


class Conflict(ServiceError):
    status = 409

    def __init__(self, message, *, code="conflict"):
        super().__init__(message, code=code)


class PreconditionFailed(ServiceError):
    """412: the client edited what it read, and it changed meanwhile (a stale `If-Match`)."""

    status = 412

    def __init__(self, message, *, code="precondition_failed"):
        super().__init__(message, code=code)


class NotAllowed(PermissionDenied):
    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


class NotVisible(Http404):
    """The object does not exist for this user (404, no hint that it exists)."""


def require(decision):
    """A refused Decision as the exception every layer answers the same way: NotVisible
    (404) when the object must not be acknowledged, else NotAllowed (403) with the reason."""
    if decision.allowed:
        return
    if not decision.visible:
        raise NotVisible()
    raise NotAllowed(decision.reason)


def checked_text(value, field, *, key=None):
    """`value` as the text `field` (a model field) stores, stripped; too long for the field
    is refused with a message, never cut (forms and serializers, which take the same limit
    from the field, refuse it first)."""
    text = str(value if value is not None else "").strip()
    if field.max_length is not None and len(text) > field.max_length:
        raise too_long(field.max_length, key or field.name)
    return text


def too_long(limit, key):
    """The refusal of a text longer than `limit`, for the form field or API key `key`."""
    message = ngettext(
        "At most %(limit)d character, please.", "At most %(limit)d characters, please.", limit
    ) % {"limit": limit}
    return ServiceError(message, code="too_long", details={key: [message]})
