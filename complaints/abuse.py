"""What keeps the public complaint form usable by people and costly for robots, without
tracking anyone or calling a third party:

- a rate limit per client address (COMPLAINT_FORM_LIMIT sends, COMPLAINT_FOLLOW_UP_LIMIT
  look-ups per COMPLAINT_LIMIT_WINDOW seconds), counted in Django's shared cache as the
  duplicate check counts (applicants.duplicates);
- a honeypot field people do not see and robots fill in;
- a signed timestamp given with the form: a send sooner than COMPLAINT_FORM_MIN_SECONDS
  after the form was shown, or with a token older than a day, is refused.
"""

import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

from core.errors import ServiceError

FORM_SALT = "complaints.form-started"
TOKEN_MAX_AGE = 24 * 3600


class TooManyRequests(ServiceError):
    status = 429

    def __init__(self, retry_after):
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            _("Too many requests from this connection. Try again in %(minutes)s minutes.")
            % {"minutes": minutes},
            code="too_many_requests",
        )
        self.retry_after = retry_after


def count_request(kind, address, *, limit, now=None):
    """Count one request of `kind` from `address`; raise TooManyRequests past `limit`."""
    window = settings.COMPLAINT_LIMIT_WINDOW
    now = time.time() if now is None else now
    start = int(now // window) * window
    key = f"complaints:{kind}:{address}:{start}"
    if cache.add(key, 1, timeout=window + 60):
        return
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 60)
        return
    if count > limit:
        raise TooManyRequests(retry_after=int(start + window - now) + 1)


def form_token(now=None):
    """The signed time the form was shown."""
    return signing.TimestampSigner(salt=FORM_SALT).sign(str(int(time.time() if now is None else now)))


def check_human(*, token, honeypot, now=None):
    """Refuse a send that fills the honeypot, lacks a valid token, or comes too fast."""
    if honeypot:
        raise ServiceError(
            _("Your complaint could not be accepted. Please fill in the form again."), code="refused"
        )
    try:
        shown = int(signing.TimestampSigner(salt=FORM_SALT).unsign(token or "", max_age=TOKEN_MAX_AGE))
    except (signing.BadSignature, ValueError):
        raise ServiceError(
            _("This form has expired. Please fill it in again."), code="expired_form"
        ) from None
    now = time.time() if now is None else now
    if now - shown < settings.COMPLAINT_FORM_MIN_SECONDS:
        raise ServiceError(
            _("That was very quick. Please check what you wrote and send it again."), code="too_fast"
        )
