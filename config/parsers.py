"""Request bodies (JSON and forms) may not carry control characters or the invisible
characters that reverse text direction: they never belong in a name, a plan or a
comment, and they hide what a text says when staff read it. Tab, newline and carriage
return stay allowed. The field is named in the 400 answer, as for any field error."""

import re

from rest_framework import parsers
from rest_framework.exceptions import ValidationError

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
    def parse(self, stream, media_type=None, parser_context=None):
        return reject_control_characters(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        reject_control_characters(result.data)
        return result
