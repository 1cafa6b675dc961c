"""Cross-cutting request handling: idle timeout for staff, and a clear 503 while the
database is away (no partial writes: every write runs in a transaction)."""

import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.template.response import SimpleTemplateResponse

from applicants import roles

log = logging.getLogger(__name__)


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and hasattr(request, "session")
            and request.session.session_key
        ):
            now = int(time.time())
            last = request.session.get("last_seen")
            if last and now - last > settings.STAFF_IDLE_TIMEOUT and roles.is_staff_member(user):
                logout(request)
                return redirect_to_login(request.get_full_path())
            request.session["last_seen"] = now
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        message = "The database is not reachable right now. Nothing was saved; try again shortly."
        if request.path.startswith("/api/") or request.path == "/healthz":
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = SimpleTemplateResponse("503.html", {"message": message}, status=503)
        response["Retry-After"] = "10"
        return response
