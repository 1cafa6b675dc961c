"""django-axes with two limits and one reset rule.

- AXES_FAILURE_LIMIT failures for one username from one address lock that pair, as axes
  does; wrong two-factor codes count like wrong passwords (the views send
  `user_login_failed` for them).
- ADDRESS_FAILURE_LIMIT failures from one address, whatever the usernames, lock the
  address: password spraying (one guess each for many usernames) is stopped too. The
  count is read from axes' AccessAttempt rows, in the database, so every worker process
  sees the same number.
- The counts are cleared only when a sign-in is complete: after the password for people
  without a second factor, after the code for the others (`sign_in_completed`). Clearing
  them at the password step would let wrong codes be tried without end.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum

from applicants.roles import needs_two_factor


class LockoutHandler(AxesDatabaseHandler):
    def address_failures(self, request):
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def is_locked(self, request, credentials=None):
        if super().is_locked(request, credentials):
            return True
        return self.address_failures(request) >= settings.ADDRESS_FAILURE_LIMIT

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.address_failures(request) >= settings.ADDRESS_FAILURE_LIMIT:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=(credentials or {}).get("username"),
                ip_address=request.axes_ip_address,
            )

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        if not needs_two_factor(user):
            self.reset_user_attempts(request, get_credentials(user.get_username()))


def sign_in_completed(request, user):
    """Every factor passed (the code after the password, or a token issued): this
    account's failures from this address start again from zero. Other usernames'
    failures from the address stay counted."""
    if settings.AXES_ENABLED:
        AxesProxyHandler.update_request(request)
        AxesProxyHandler.get_implementation().reset_user_attempts(
            request, get_credentials(user.get_username())
        )
