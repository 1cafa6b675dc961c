"""Idempotent writes for the API (docs/api.md "Idempotency").

A client that sends a write (POST, PUT, PATCH, DELETE under /api/) with an
`Idempotency-Key` header gets the same answer for the same key however often it sends
the request: the first request runs, its answer is stored in the same transaction as
its effect, and every later request with that key and the same body gets the stored
answer (marked `Idempotent-Replayed: true`) without a second effect. The same key with
another request is refused (422). Two requests racing with one key: the database's
unique index makes the second wait for the first, and it then gets the first's answer.

Keys belong to the user the request is made as (by token or session); requests made
without an account (signing in) are not replayed: an answer holding a credential is
never stored. An answer of 5xx is not kept, so a retry after a failure runs afresh.
Keys are kept for IDEMPOTENCY_KEY_HOURS (at least 24) and then purged."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from applicants import tokens
from applicants.models import ApiToken

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_MAX_LENGTH = IdempotentRequest._meta.get_field("key").max_length
# Signing in answers with a new credential: never stored, never replayed.
NOT_REPLAYED = ("/api/v1/auth/token/",)


class KeyRefused(Exception):
    def __init__(self, status, code, detail):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self):
        return JsonResponse({"detail": self.detail, "code": self.code}, status=self.status)


def key_of(request):
    """The request's key, None without one; KeyRefused for a key that cannot be one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > KEY_MAX_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise KeyRefused(
            400,
            "idempotency_key_invalid",
            f"The {HEADER} header must be 1 to {KEY_MAX_LENGTH} visible ASCII characters (a UUID, say).",
        )
    return key


def scope_of(request):
    """Whose key this is: the signed-in user, or the owner of the API token used."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    auth = request.headers.get("Authorization", "").split()
    if len(auth) == 2 and auth[0].lower() == "token":
        owner = (
            ApiToken.objects.filter(key_hash=tokens.hash_key(auth[1]))
            .values_list("user_id", flat=True)
            .first()
        )
        if owner is not None:
            return f"user:{owner}"
    return None


def fingerprint(request):
    """What makes two requests the same request. A multipart body (an upload) is spooled
    to disk as it arrives and is not read twice: its length stands for it."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    if request.content_type == "multipart/form-data":
        digest.update(b"multipart:" + request.headers.get("Content-Length", "").encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def replay(stored, request):
    if (
        stored.method != request.method
        or stored.path != request.path
        or stored.fingerprint != fingerprint(request)
    ):
        raise KeyRefused(
            422,
            "idempotency_key_reused",
            f"This {HEADER} was already used for a different request; send a new key with a new request.",
        )
    response = HttpResponse(
        bytes(stored.body), status=stored.status, content_type=stored.content_type or None
    )
    if stored.location:
        response["Location"] = stored.location
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in WRITE_METHODS or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        try:
            key = key_of(request)
            if key is None or request.path in NOT_REPLAYED:
                return self.get_response(request)
            scope = scope_of(request)
            if scope is None:
                # Not signed in: the API answers 401 and nothing is done or kept.
                return self.get_response(request)
            return self._once(request, scope, key)
        except KeyRefused as refused:
            return refused.response()

    def _once(self, request, scope, key):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = IdempotentRequest.objects.create(
                        scope=scope,
                        key=key,
                        method=request.method,
                        path=request.path,
                        fingerprint=fingerprint(request),
                        status=0,
                    )
            except IntegrityError:
                # Another request holds this key. On PostgreSQL the insert above waited
                # for it to finish: its answer is there now.
                stored = IdempotentRequest.objects.filter(scope=scope, key=key).first()
                if stored is None:  # it failed and let go of the key meanwhile
                    raise KeyRefused(
                        409, "idempotency_key_in_use", "A request with this key was running; send it again."
                    ) from None
                return replay(stored, request)
            response = self.get_response(request)
            if response.status_code >= 500 or response.streaming:
                claim.delete()
                return response
            claim.status = response.status_code
            claim.content_type = response.get("Content-Type", "")
            claim.location = response.get("Location", "")
            claim.body = response.content
            claim.save(update_fields=["status", "content_type", "location", "body"])
            return response


def purge_expired(now=None):
    """Forget keys older than IDEMPOTENCY_KEY_HOURS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotentRequest.objects.filter(created__lt=cutoff).delete()
    return deleted
