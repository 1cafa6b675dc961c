"""`?updated_since=` and `?ordering=` on the API's lists (docs/api.md "Changes"): how an
integration asks only for what changed since its last sync, in an order it names.

Both are strict, as every filter is: a date-time without its time zone, or an ordering
the list does not offer, answers 400 with the field named."""

import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 date-time with its offset (`2026-12-06T10:00:00Z`, `...+01:00`). A
    naive one is refused: "since 10:00" means nothing without knowing whose 10:00."""

    default_error_messages = {
        "invalid": "An ISO 8601 date-time with its time zone, e.g. 2026-12-06T10:00:00Z.",
        "naive": "Give the time zone too (Z or an offset such as +01:00).",
    }

    def to_internal_value(self, data):
        text = str(data).strip()
        # An unencoded "+01:00" in a query string arrives as " 01:00".
        if "T" in text and " " in text:
            text = text.replace(" ", "+")
        try:
            value = datetime.datetime.fromisoformat(text)
        except ValueError:
            self.fail("invalid")
        if "T" not in text:
            self.fail("invalid")
        if value.tzinfo is None:
            self.fail("naive")
        return value

    def to_representation(self, value):
        return value.isoformat()


def changes_query(orderings, *, name, base=serializers.Serializer):
    """A query serializer (`base`'s filters and) `updated_since` and `ordering` (one of
    `orderings`, each also descending with a leading "-"), named `name` for the schema."""
    choices = [o for field in orderings for o in (field, f"-{field}")]
    fields = {
        "updated_since": AwareDateTimeField(
            required=False,
            help_text="Only rows changed at or after this moment (ISO 8601 with its time zone).",
        ),
        "ordering": serializers.ChoiceField(
            choices=choices, required=False, help_text="Sort by this field (a leading - for descending)."
        ),
    }
    return type(name, (base,), fields)


def apply_changes(queryset, values, *, field="updated_at"):
    """The rows changed since `updated_since` (inclusive: a row changed in the same
    instant as the last sync is read twice rather than missed), in `ordering` with the id
    as the tie-break, so that pages do not shift."""
    since = values.get("updated_since")
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gte": since})
    ordering = values.get("ordering")
    if ordering:
        tie = "-id" if ordering.startswith("-") else "id"
        queryset = queryset.order_by(*dict.fromkeys([ordering, tie]))
    return queryset
