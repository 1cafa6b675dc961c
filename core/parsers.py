"""Request bodies (JSON and forms) may not carry control characters or the invisible
characters that reverse text direction: they never belong in a name, a plan or a
comment, and they hide what a text says when staff read it. Tab, newline and carriage
return stay allowed. The field is named in the 400 answer, as for any field error.

The API's bodies are JSON; multipart is for uploads (docs/api.md, "Request bodies").
Form-encoded and multipart bodies sent to other endpoints are still read until the
sunset below (the API may grow, never break), answered with `Deprecation` and `Sunset`
headers, and left out of the schema. A body that does not parse as its content type says
is 400 `parse_error` before anything is done: never an empty form that lets a step go
through."""

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

# RFC 9745 `Deprecation` (when form bodies outside uploads were deprecated) and RFC 8594
# `Sunset` (from when they may be refused).
LEGACY_BODY_DEPRECATED = datetime(2026, 12, 6, tzinfo=UTC)
LEGACY_BODY_SUNSET = datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)
DEPRECATION_LINK = '</api/v1/docs/>; rel="deprecation"; type="text/html"'

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
MESSAGE = "Remove the control or invisible characters from this text."


def _carries_forbidden(value):
    if isinstance(value, str):
        return bool(FORBIDDEN.search(value))
    if isinstance(value, dict):
        return any(_carries_forbidden(k) or _carries_forbidden(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_carries_forbidden(v) for v in value)
    return False


def reject_control_characters(data):
    """Raise a field error naming the first top-level field that carries one."""
    if hasattr(data, "lists"):
        items = ((key, values) for key, values in data.lists())
    elif isinstance(data, dict):
        items = data.items()
    else:
        if _carries_forbidden(data):
            raise ValidationError({"non_field_errors": [MESSAGE]})
        return data
    for key, value in items:
        if _carries_forbidden(key) or _carries_forbidden(value):
            name = key if not FORBIDDEN.search(str(key)) else "non_field_errors"
            raise ValidationError({name: [MESSAGE]})
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return reject_control_characters(super().parse(stream, media_type, parser_context))


class FormParser(parsers.FormParser):
    """application/x-www-form-urlencoded, strictly: `a=1&b=2`, nothing else."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        body = stream.read() if stream is not None else b""
        try:
            text = body.decode(encoding)
            if text:
                parse_qsl(
                    text, keep_blank_values=True, strict_parsing=True, encoding=encoding, errors="strict"
                )
        except (UnicodeDecodeError, ValueError):
            raise ParseError("The body is not form-encoded (name=value pairs joined by &).") from None
        return reject_control_characters(QueryDict(body, encoding=encoding))


class MultiPartParser(parsers.MultiPartParser):
    """multipart/form-data: a body with content but not one part is refused, not read as
    an empty form."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        boundary = _boundary(media_type)
        if boundary and length and str(length).isdigit() and int(length) <= len(boundary) + 8:
            # A form with no field is the closing delimiter alone ("--B--"), as clients
            # send an empty form: empty, like no body. Anything else this short is not
            # multipart.
            if stream is not None and stream.read().strip() == b"--" + boundary + b"--":
                return parsers.DataAndFiles(QueryDict("", encoding="utf-8"), {})
            raise ParseError("The multipart body has no parts (check the boundary).")
        result = super().parse(stream, media_type, parser_context)
        if length not in (None, "", "0") and not result.data and not result.files:
            raise ParseError("The multipart body has no parts (check the boundary).")
        reject_control_characters(result.data)
        return result


def _boundary(media_type):
    match = re.search(r'boundary="?([^";]+)"?', media_type or "")
    return match.group(1).encode("ascii", "replace") if match else b""


def _mark_legacy(parser_context, media_type):
    request = (parser_context or {}).get("request")
    if request is not None:
        request._request.legacy_body = media_type


class LegacyFormParser(FormParser):
    """A form-encoded body outside uploads: read until the sunset, left out of the schema."""

    deprecated = True

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _mark_legacy(parser_context, self.media_type)
        return result


class LegacyMultiPartParser(MultiPartParser):
    """A multipart body on an endpoint that takes no file: as LegacyFormParser."""

    deprecated = True

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _mark_legacy(parser_context, self.media_type)
        return result


# Every endpoint's parsers unless it takes files (settings.REST_FRAMEWORK).
JSON_BODIES = [JSONParser, LegacyMultiPartParser, LegacyFormParser]
# An upload: multipart only, in the schema (a form body cannot carry the file: it is read,
# deprecated, to answer "Attach a file" rather than 415, as before).
UPLOAD_BODIES = [MultiPartParser, LegacyFormParser]
# An endpoint whose files are optional (a visit with or without photos): JSON or multipart.
JSON_OR_UPLOAD_BODIES = [JSONParser, MultiPartParser, LegacyFormParser]


def legacy_body_headers(response):
    """The deprecation headers of an answer to a form body outside uploads."""
    response["Deprecation"] = f"@{int(LEGACY_BODY_DEPRECATED.timestamp())}"
    response["Sunset"] = format_datetime(LEGACY_BODY_SUNSET, usegmt=True)
    response["Link"] = DEPRECATION_LINK
    return response
