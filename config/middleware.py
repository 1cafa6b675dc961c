"""Cross-cutting request handling: no caching of what the app answers, idle timeout and
two-factor for staff, and a clear 503 while the database is away (nothing half-written:
requests are atomic)."""

import ipaddress
import logging
import sys
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import MiddlewareNotUsed
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.template.response import SimpleTemplateResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views import defaults

from applicants.roles import is_staff_account, needs_two_factor
from core.parsers import legacy_body_headers

log = logging.getLogger(__name__)

DATABASE_AWAY = "The database is not reachable right now. Nothing was saved; try again shortly."


def _is_api(request):
    return request.path_info.startswith("/api/")


class LegacyBodyMiddleware:
    """A form-encoded or multipart body sent where the API takes JSON is still read, and
    answered with `Deprecation` and `Sunset` (RFC 9745, RFC 8594) so that its client
    learns to send JSON before the sunset (docs/api.md, "Request bodies")."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "legacy_body", None):
            legacy_body_headers(response)
        return response


class LoopbackOnlyWhenDebug:
    """With DEBUG on, answer requests from this computer only. Settings already refuse
    DEBUG beside a SECRET_KEY or a public host name; this covers `make run HOST=0.0.0.0`,
    where anyone on the network could send `Host: localhost` and read a debug page."""

    def __init__(self, get_response):
        if not settings.DEBUG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        try:
            loopback = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return HttpResponseForbidden(
                "This development server (DEBUG=1) answers this computer only.", content_type="text/plain"
            )
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing the app itself answers is kept by a browser or a proxy: `Cache-Control:
    private, no-store` (and `Pragma: no-cache` for HTTP/1.0 caches) on every response.

    Nearly every page and API answer names a person, the sign-up form answers with what
    was typed into it, and a shared computer's back button or disk cache must not show
    them to the next person. Static files never reach this (WhiteNoise answers them first,
    with long caching); the API schema and its docs page say nothing about anyone and may
    be cached. A view that already forbids storing keeps its own header."""

    PUBLIC_PREFIXES = ("/api/v1/schema/", "/api/v1/docs/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(self.PUBLIC_PREFIXES):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            # Replaced, not merged: max-age or public would contradict no-store.
            del response["Cache-Control"]
            patch_cache_control(response, private=True, no_store=True)
        response.setdefault("Pragma", "no-cache")
        return response


class StaffSessionTimeoutMiddleware:
    """Staff sessions end after STAFF_IDLE_TIMEOUT seconds without a request.

    The time of the last request is written to the session at most once a minute (a
    quarter of the timeout when that is shorter), not on every request: a session write
    is an UPDATE per page otherwise. A session may therefore end up to that long before
    a full STAFF_IDLE_TIMEOUT of idleness, never after."""

    RESOLUTION = 60  # seconds

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and session is not None and session.session_key and is_staff_account(user):
            now = int(time.time())
            last = session.get("last_seen")
            if last and now - last > settings.STAFF_IDLE_TIMEOUT:
                logout(request)
                message = "Your session ended after a while without activity; log in again."
                if _is_api(request):
                    return JsonResponse({"detail": message, "code": "session_expired"}, status=401)
                return redirect_to_login(request.get_full_path())
            if not last or now - last >= min(self.RESOLUTION, settings.STAFF_IDLE_TIMEOUT // 4):
                session["last_seen"] = now
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """A staff session opens nothing but the code page (and logout) until a TOTP code
    has verified it. Token requests are not affected: tokens are only issued with a code."""

    EXEMPT_PREFIXES = ("/static/", "/i18n/", "/healthz", "/api/v1/auth/token/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and needs_two_factor(user)
            and not user.is_verified()
            and not self._exempt(request)
        ):
            if _is_api(request):
                return JsonResponse(
                    {
                        "detail": "Confirm your two-factor code in the browser first, or use a token.",
                        "code": "two_factor_required",
                    },
                    status=403,
                )
            return redirect(f"{reverse('otp-verify')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    def _exempt(self, request):
        path = request.path_info
        if path.startswith(self.EXEMPT_PREFIXES):
            return True
        return path in (reverse("logout"), reverse("otp-verify"), reverse("otp-setup"))


def database_unavailable(request):
    if _is_api(request) or request.path_info == "/healthz":
        response = JsonResponse({"detail": DATABASE_AWAY, "code": "database_unavailable"}, status=503)
    else:
        response = SimpleTemplateResponse("503.html", {"message": DATABASE_AWAY}, status=503)
        response.render()
    response["Retry-After"] = "10"
    return response


class DatabaseUnavailableMiddleware:
    """A view that loses the database answers 503 (handler500 below covers middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)


def page_not_found(request, exception):
    """handler404: JSON under /api/ (docs/api.md's error shape), the site's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: the database going away anywhere (sessions, authentication, the view)
    is a 503 with a clear message; anything else a plain 500, JSON under /api/."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DataError | OverflowError):
        # A value the database cannot take (a NUL character, a number beyond any id):
        # the request was wrong, not the server.
        if _is_api(request):
            return JsonResponse(
                {"detail": "A value in the request cannot be used.", "code": "invalid"}, status=400
            )
        return defaults.bad_request(request, exception)
    if isinstance(exception, OperationalError | InterfaceError):
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)
    if _is_api(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side; it has been logged.", "code": "server_error"},
            status=500,
        )
    return defaults.server_error(request)
