"""OpenAPI schema post-processing: every operation documents the error answers of
docs/api.md's conventions (JSON with a `detail` sentence), so that clients, and schemathesis
in the test suite, know a 404 or a 409 is part of the contract and not a surprise."""

from drf_spectacular import openapi
from rest_framework import serializers


class AutoSchema(openapi.AutoSchema):
    """Request bodies as the API wants them: JSON, multipart where files go. Parsers kept
    only for old clients (`deprecated`, core.parsers) are not advertised."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """Lists of nested objects say how many items they take, as plain lists do."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and field.max_digits and "pattern" in schema:
            # drf-spectacular's pattern takes "" and "."; a number has a digit (from zero
            # up: no minus sign).
            whole = field.max_digits - (field.decimal_places or 0)
            places = field.decimal_places or 0
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            number = rf"\d{{1,{whole}}}(?:\.\d{{0,{places}}})?" if whole else ""
            fraction = rf"\.\d{{1,{places}}}" if places else ""
            schema["pattern"] = f"^{sign}(?:{'|'.join(p for p in (number, fraction) if p)})$"
        if (
            direction == "response"
            and isinstance(field, serializers.EmailField | serializers.URLField)
            and "format" in schema
            and "oneOf" not in schema
        ):
            # A stored address may be blank (none given): "" is an answer, not a broken email.
            kept = {k: v for k, v in schema.items() if k in ("readOnly", "description", "title")}
            typed = {k: v for k, v in schema.items() if k not in kept}
            schema = {**kept, "oneOf": [typed, {"type": "string", "maxLength": 0}]}
        if (
            direction == "request"
            and type(field) is serializers.CharField
            and not field.allow_blank
            and field.trim_whitespace
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            # Spaces alone are blank once trimmed: a required text has something else.
            schema["pattern"] = NON_BLANK_TEXT
        if (
            direction == "request"
            and isinstance(field, serializers.FileField)
            and not field.allow_empty_file
            and schema.get("format") == "binary"
        ):
            # A file with no bytes is refused (`empty`): an upload has at least one.
            schema["minLength"] = 1
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            least = getattr(field, "min_length", None) or (0 if field.allow_empty else 1)
            if least:
                schema["minItems"] = least
            if getattr(field, "max_length", None):
                schema["maxItems"] = field.max_length
        return schema

    def _map_basic_serializer(self, serializer, direction):
        """A serializer's `schema_rules` (JSON Schema keywords: which fields go together)
        join its request schema: rules between fields that field types cannot say."""
        schema = super()._map_basic_serializer(serializer, direction)
        rules = getattr(serializer, "schema_rules", None)
        if rules and direction == "request":
            schema.update(rules)
        return schema

    def map_parsers(self):
        return list(
            dict.fromkeys(
                p.media_type for p in self.view.get_parsers() if not getattr(p, "deprecated", False)
            )
        )


ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "A sentence a person understands in `detail`, a stable word to branch on in `code` "
        '(docs/api.md "Errors"); field errors by field name.'
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}

EVERY_OPERATION = {
    "400": "Invalid input, or a workflow rule not met (the message says which).",
    "401": "Not authenticated (or the token expired).",
    "403": "Authenticated but not allowed on a visible object.",
    "404": "Unknown or not visible.",
    "409": "The object changed meanwhile or is not (or no longer) in the state this needs.",
    "503": "The database is not reachable; nothing was saved.",
}
UPLOADS = {
    "413": "The file is too large.",
    "415": "This file type is not allowed for this kind of document.",
    "503": "The database or the file storage is not reachable; nothing was saved.",
}
TOKEN = {
    "429": "Too many failed sign-ins from this address (locked for a while), or too many requests a minute."
}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID) of 1 to 255 visible characters: the same key with the same "
        "request gives the first answer again, with `Idempotent-Replayed: true`, and no second "
        "effect; the same key with another request is refused with 422. Kept for at least 24 hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
WRITES = {"422": "This Idempotency-Key was already used for a different request."}
STALE = {"412": "`If-Match` names an ETag that is no longer the object's: it changed since it was read."}


# core.parsers.FORBIDDEN as a JSON Schema pattern: what a text may not carry, said where
# clients (and schemathesis's valid data) read it.
SAFE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069]*$"
_FORBIDDEN = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069"
NON_BLANK_TEXT = f"^[^{_FORBIDDEN}]*[^\\s{_FORBIDDEN}][^{_FORBIDDEN}]*$"
PAGING = {"page": 1, "page_size": 1}


def _safe_strings(schema):
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"format", "enum", "pattern"} & set(schema)):
        schema["pattern"] = SAFE_TEXT
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            _safe_strings(child)
    for key in ("items", "additionalProperties"):
        _safe_strings(schema.get(key))
    for key in ("oneOf", "anyOf", "allOf"):
        for child in schema.get(key, []):
            _safe_strings(child)


def tighten_inputs(result, generator, request, public):
    """What the server refuses, in the schema: texts without control characters and no
    unknown properties in request bodies, `page` and `page_size` from 1, integer filters
    from 0."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _safe_strings(schema)
            # Unknown properties are no part of the contract (read past today, and checked
            # for control characters like the rest).
            if schema.get("type") == "object" and "properties" in schema:
                schema.setdefault("additionalProperties", False)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") in PAGING:
                    parameter["schema"]["minimum"] = PAGING[parameter["name"]]
                elif parameter.get("in") == "query" and parameter.get("schema", {}).get("type") == "integer":
                    # Ids and counts: a whole number, never negative (the filters say so in 400s).
                    parameter["schema"].setdefault("minimum", 0)
    return result


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            answers = dict(EVERY_OPERATION)
            body = operation.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in body:
                answers.update(UPLOADS)
            if path.endswith("/auth/token/"):
                answers.update(TOKEN)
            elif method != "get":
                answers.update(WRITES)
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_KEY["name"] for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_KEY))
                if any(p.get("name") == "If-Match" for p in parameters):
                    answers.update(STALE)
            responses = operation.setdefault("responses", {})
            for status, description in answers.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                # An error declared without a body (`413: None` in @extend_schema) has one.
                if status[:1] in "45" and not response.get("content"):
                    response["content"] = {"application/json": {"schema": reference}}
                    if response.get("description") in (None, "", "No response body"):
                        response["description"] = answers.get(status, "An error (the message says which).")
    return result
