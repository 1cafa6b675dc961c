"""Bars for server-rendered charts: each bar's length as a share of the longest, drawn in
the template as an SVG rect (a presentation attribute, allowed under the CSP)."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _


def bars(rows, key, *, label="label"):
    """[{"label", "value", "width", "below"}] where width is 0..100 relative to the largest
    value and `below` names the figures shown as "< 5" (`withhold`)."""
    values = [_number(row.get(key)) for row in rows]
    top = max(values, default=0) or 1
    return [
        {
            "label": row[label],
            "value": row.get(key),
            "width": round(value * 100 / top, 1) if value > 0 else 0,
            "below": row.get("below_threshold") or [],
        }
        for row, value in zip(rows, values, strict=True)
    ]


def _number(value):
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def quarters(today, count=8):
    """The last `count` calendar quarters up to today's, oldest first:
    [(label, first day, last day)]."""
    year, quarter = today.year, (today.month - 1) // 3
    result = []
    for _i in range(count):
        start = datetime.date(year, quarter * 3 + 1, 1)
        end_month = quarter * 3 + 3
        end = (datetime.date(year + (end_month // 12), end_month % 12 + 1, 1)) - datetime.timedelta(days=1)
        result.append(
            (_("%(year)s, quarter %(quarter)s") % {"year": year, "quarter": quarter + 1}, start, end)
        )
        quarter -= 1
        if quarter < 0:
            quarter, year = 3, year - 1
    return list(reversed(result))
