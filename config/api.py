"""API conventions shared by every endpoint (docs/api.md): pagination and JSON errors with a
`detail` sentence, field errors by field name, never a 500 for bad input."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import NotAllowed, NotVisible, RuleNotMet, ServiceError

log = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    """`?page=` from 1 and `?page_size=` from 1 (above 200 reads as 200): anything else is
    400 with the field named, never silently the first page."""

    page_size = 50
    page_query_param = "page"
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        problems = {}
        for name in (self.page_query_param, self.page_size_query_param):
            value = request.query_params.get(name)
            if value is None or (name == self.page_query_param and value == "last"):
                continue
            if not value.isascii() or not value.isdigit() or int(value) < 1:
                problems[name] = ["A whole number from 1."]
        if problems:
            raise exceptions.ValidationError(problems)
        return super().paginate_queryset(queryset, request, view)


def _first_message(data):
    if isinstance(data, list) and data:
        return _first_message(data[0])
    if isinstance(data, dict) and data:
        key, value = next(iter(data.items()))
        message = _first_message(value)
        return message if key in ("non_field_errors", "detail") else f"{key}: {message}"
    return str(data)


# The stable `code` of each error that does not bring its own (docs/api.md "Errors").
CODES = (
    (RuleNotMet, "rule_not_met"),
    (NotAllowed, "not_allowed"),
    (NotVisible, "not_found"),
    (Http404, "not_found"),
    (PermissionDenied, "permission_denied"),
    (DjangoValidationError, "invalid"),
    (DataError, "invalid"),
    (OverflowError, "invalid"),
    (IntegrityError, "conflict"),
    (DatabaseError, "database_unavailable"),
)
STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    409: "conflict",
}


# Rules that a request schema cannot state (one of two fields; the part an offline
# item's kind names; JSON inside a multipart field; a feed's cursor the server never gave;
# an uploaded file with no bytes): refused as a field error whose own code is the
# answer's `code`, as a service rule's is, not "invalid".
FIELD_RULE_CODES = frozenset(
    {"application_or_applicant", "item_kind", "item_not_json", "cursor_unknown", "empty"}
)


def _leaf_codes(detail):
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _leaf_codes(value)
    elif isinstance(detail, list):
        for value in detail:
            yield from _leaf_codes(value)
    else:
        yield getattr(detail, "code", None)


def code_of(exc, status_code):
    for kind, code in CODES:
        if isinstance(exc, kind):
            return code
    if isinstance(exc, exceptions.ValidationError):
        codes = set(_leaf_codes(exc.detail))
        if len(codes) == 1 and codes <= FIELD_RULE_CODES:
            return codes.pop()
    if isinstance(exc, exceptions.APIException):
        return exc.default_code
    return STATUS_CODES.get(status_code, "error")


def exception_handler(exc, context):
    """Every error answer: `detail`, a sentence, and `code`, a stable word to branch on."""
    response = _answer(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        response.data["code"] = code_of(exc, response.status_code)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        # The database or the document store is away for a moment: say when to try again,
        # as the middleware's 503 does (clients and proxies retry on it).
        response.setdefault("Retry-After", "10")
    return response


def _answer(exc, context):
    if isinstance(exc, NotVisible | Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, NotAllowed):
        return Response({"detail": str(exc.reason)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, PermissionDenied) and not isinstance(exc, exceptions.APIException):
        return Response(
            {"detail": str(exc) or "You are not allowed to do this."}, status=status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, RuleNotMet):
        return Response(
            {
                "detail": exc.message,
                "rules": [{"code": code, "message": str(message)} for code, message in exc.rules],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, ServiceError):
        body = {"detail": str(exc.message), "code": exc.code}
        body.update({k: [str(m) for m in v] for k, v in exc.details.items()})
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"detail": _first_message(detail), **detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):
        # PostgreSQL refuses some values outright (a NUL character in a search, say).
        return Response(
            {"detail": "A value in the request cannot be used (for example a NUL character)."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OverflowError):
        # A number far beyond any id or amount (the database driver cannot bind it).
        return Response(
            {"detail": "A number in the request is out of range."}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, IntegrityError):
        log.warning("integrity error answered as 409: %s", exc)
        return Response(
            {"detail": "The record changed meanwhile or conflicts with another; reload and try again."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DatabaseError):
        log.error("database unavailable: %s", exc)
        return Response(
            {"detail": "The database is not reachable right now. Nothing was saved; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        if isinstance(data, dict):
            response.data = {"detail": _first_message(data), **data}
        else:
            response.data = {"detail": _first_message(data), "non_field_errors": data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data["detail"] = str(response.data["detail"])
    return response
