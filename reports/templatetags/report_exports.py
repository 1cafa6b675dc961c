"""`{% export_url "api:report-budget-export" "csv" query %}`: an export's link for the web
pages, asking for the CSV separator of the reader's language (reports.exports)."""

from django import template
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode

from reports.exports import DEFAULT_CSV_SEPARATOR, web_csv_separator

register = template.Library()


@register.simple_tag
def export_url(name, fmt, query=""):
    parts = [query] if query else []
    if fmt == "csv":
        sep = web_csv_separator(translation.get_language())
        if sep != DEFAULT_CSV_SEPARATOR:
            parts.append(urlencode({"sep": sep}))
    url = reverse(name, args=[fmt])
    return f"{url}?{'&'.join(parts)}" if parts else url
