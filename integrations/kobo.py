"""What a KoboToolbox or ODK submission of the monitoring-visit form says, read from the
JSON the form server posts (docs/api.md "Form intake"). Pure reading: no database.

KoboToolbox's REST service posts the submission as one flat object, each answer under
its XPath ("group/field", or "field" outside groups), with `meta/instanceID`, `_uuid`
and `_attachments` (each with `download_url`, `filename`, `mimetype`, `question_xpath`).
ODK Central's JSON (its OData rows, forwarded by a relay: Central itself posts nothing)
nests groups as objects and names the instance `__id`; both are read alike. A Central
row names a photo by its file name only: the photo is the attachment of that name of
the submission `__id` on Central (integrations/attachments.py fetches it from the
configured server, project and form; `@odata.context`, when the relay keeps it, says
which server, project and form the row is of).

The field names are the XLSForm's (integrations/xlsform/build.py reads
them from here, so the form and the intake cannot disagree)."""

import datetime
import posixpath
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

# XLSForm name -> what it fills of the visit (docs/api.md has the table).
APPLICATION = "application_id"
MONTHS = "visit_months"
VISITED_ON = "visited_on"
OPERATING = "operating"
EQUIPMENT_IN_USE = "equipment_in_use"
MONTHLY_REVENUE = "monthly_revenue"
JOBS = {"owner": "jobs_owner", "family": "jobs_family", "employees": "jobs_employees"}
NOTES = "notes"
PHOTOS = tuple(f"photo_{n}" for n in range(1, 6))
YES, NO = "yes", "no"
YES_NO = [YES, NO]
FORM_ID = "monitoring_visit"

# Where the instance id may be, in the order looked for.
INSTANCE_KEYS = ("meta/instanceID", "__id", "_uuid")
INSTANCE_ID = re.compile(r"^[\x21-\x7e]{1,100}$")
MAX_NOTES = 8000


class Refusal(Exception):
    """Why a submission cannot become a visit: a stable `code` and a sentence."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = str(message)


@dataclass
class CentralAttachment:
    """A photo on ODK Central: the submission's `__id` (as Central writes it, "uuid:"
    kept), the attachment's file name, and the row's `@odata.context` ("" without)."""

    instance: str
    name: str
    context: str = ""


@dataclass
class Photo:
    field: str
    filename: str
    url: str
    central: CentralAttachment | None = None


@dataclass
class VisitAnswers:
    application: int
    months: int
    visited_on: datetime.date
    operating: bool
    equipment_in_use: bool
    monthly_revenue: Decimal | None
    jobs: dict
    notes: str
    photos: list = field(default_factory=list)


def flatten(payload, prefix=""):
    """{"a/b": value} of nested objects (ODK Central's groups); Kobo's flat keys unchanged."""
    flat = {}
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not key.startswith("_"):
            flat.update(flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def instance_id(payload):
    """The submission's instance id ("uuid:" dropped, so `meta/instanceID` and `_uuid`
    name it alike), or None when there is none that can be one."""
    flat = flatten(payload)
    for key in INSTANCE_KEYS:
        value = flat.get(key)
        if isinstance(value, str) and value.strip():
            value = value.strip().removeprefix("uuid:")
            return value if INSTANCE_ID.match(value) else None
    return None


def _answers_by_name(flat):
    """Each answer by its question's name (the last part of its XPath)."""
    return {key.rsplit("/", 1)[-1]: value for key, value in flat.items() if not key.startswith("_")}


def _bad(name, what):
    return Refusal("invalid_data", _("%(field)s: %(what)s") % {"field": name, "what": what})


def _whole(answers, name, *, low, high, required=True):
    value = answers.get(name)
    if value in (None, ""):
        if required:
            raise Refusal("invalid_data", _("%(field)s: no answer.") % {"field": name})
        return 0
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,9}", text) or not low <= int(text) <= high:
        raise _bad(name, _("a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
    return int(text)


def _yes_no(answers, name):
    value = str(answers.get(name) or "").strip().lower()
    if value not in (YES, NO):
        raise _bad(name, _("yes or no."))
    return value == YES


def read(payload, *, corrections=None):
    """The visit a submission describes; Refusal("invalid_data") naming the first answer
    that cannot be read. `corrections` ({"application", "months"}) replace what the form
    said: what a person fixed."""
    flat = flatten(payload)
    answers = _answers_by_name(flat)
    corrections = corrections or {}
    application = corrections.get("application") or _whole(answers, APPLICATION, low=1, high=10**9 - 1)
    months = corrections.get("months") or _whole(answers, MONTHS, low=1, high=120)
    try:
        visited_on = datetime.date.fromisoformat(str(answers.get(VISITED_ON) or "")[:10])
    except ValueError:
        raise _bad(VISITED_ON, _("a date (YYYY-MM-DD).")) from None
    revenue = answers.get(MONTHLY_REVENUE)
    if revenue in (None, ""):
        revenue = None
    else:
        try:
            revenue = Decimal(str(revenue).strip())
        except InvalidOperation:
            raise _bad(MONTHLY_REVENUE, _("an amount.")) from None
        if not revenue.is_finite() or revenue < 0 or revenue >= Decimal("1e10"):
            raise _bad(MONTHLY_REVENUE, _("an amount from 0."))
        revenue = revenue.quantize(Decimal("0.01"))
    notes = answers.get(NOTES) or ""
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        raise _bad(NOTES, _("text of at most %(count)s characters.") % {"count": MAX_NOTES})
    return VisitAnswers(
        application=application,
        months=months,
        visited_on=visited_on,
        operating=_yes_no(answers, OPERATING),
        equipment_in_use=_yes_no(answers, EQUIPMENT_IN_USE),
        monthly_revenue=revenue,
        jobs={kind: _whole(answers, name, low=0, high=1000, required=False) for kind, name in JOBS.items()},
        notes=notes,
        photos=_photos(flat, answers),
    )


def _photos(flat, answers):
    """The photos answered, each with the attachment that carries it (Kobo's
    `_attachments`: matched by file name, or by the question's XPath; on ODK Central,
    the attachment of that file name of the submission `__id`)."""
    attachments = [a for a in flat.get("_attachments") or [] if isinstance(a, dict)]
    central = _central_instance(flat)
    photos = []
    for name in PHOTOS:
        value = answers.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise _bad(name, _("a file name."))
        match = next(
            (
                a
                for a in attachments
                if posixpath.basename(str(a.get("filename", ""))) == value
                or str(a.get("question_xpath", "")).rsplit("/", 1)[-1] == name
            ),
            None,
        )
        url = match and (match.get("download_url") or match.get("download_large_url"))
        if match is None and central is not None:
            photos.append(_central_photo(flat, central, name, value))
            continue
        if not isinstance(url, str) or not url:
            raise Refusal(
                "photo_missing",
                _("%(field)s: the photo %(name)s came without an attachment to fetch it from.")
                % {"field": name, "name": value[:100]},
            )
        photos.append(Photo(field=name, filename=posixpath.basename(value)[:100], url=url))
    return photos


def _central_instance(flat):
    """The submission's id on ODK Central (its OData row's `__id`), or None for a row
    that is not Central's."""
    value = flat.get("__id")
    if not isinstance(value, str) or not INSTANCE_ID.match(value.strip()) or value.strip() in (".", ".."):
        return None
    return value.strip()


def _central_photo(flat, instance, name, value):
    filename = value.strip()
    if (
        not filename
        or filename in (".", "..")
        or len(filename) > 255
        or re.search(r"[/\\\x00-\x1f]", filename)
    ):
        raise _bad(name, _("a file name."))
    context = flat.get("@odata.context")
    return Photo(
        field=name,
        filename=filename[:100],
        url="",
        central=CentralAttachment(
            instance=instance, name=filename, context=context if isinstance(context, str) else ""
        ),
    )
