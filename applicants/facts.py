"""The facts a donor's figures are broken down by: sex as the person states it, an age
band from the date of birth at a reference date, and disability by the Washington Group
Short Set (docs/design.md, "Facts for disaggregation"). Each rule is one Python check
with its SQL expression beside it, tested to agree (tests/test_breakdowns.py)."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from .models import WG_DOMAINS, Sex, WashingtonGroupAnswer

# The first age of each band: 15–24, 25–34, 35–49, 50+ (a programme may set its own,
# `Programme.age_bands`). Younger than the first: its own band.
DEFAULT_AGE_BANDS = (15, 25, 35, 50)
UNKNOWN = "unknown"
# The Washington Group's cut-off: at least one domain "a lot of difficulty" or "cannot
# do at all".
WG_CUT_OFF = (WashingtonGroupAnswer.A_LOT, WashingtonGroupAnswer.CANNOT)
DISABILITY_LABELS = {
    "yes": _("With a disability"),
    "no": _("Without a disability"),
    UNKNOWN: _("Not asked or not answered"),
}


# ---- age bands ------------------------------------------------------------------------


def clean_age_bands(bounds):
    """The first ages of the bands, rising, each from 0 to 120; ValueError otherwise."""
    try:
        bounds = [int(b) for b in bounds]
    except (TypeError, ValueError):
        raise ValueError(_("Age bands: give whole numbers, such as 15, 25, 35, 50.")) from None
    if not bounds or any(not 0 <= b <= 120 for b in bounds) or bounds != sorted(set(bounds)):
        raise ValueError(_("Age bands: give rising whole numbers from 0 to 120, such as 15, 25, 35, 50."))
    return tuple(bounds)


def validate_age_bands(bounds):
    """A model validator for `Programme.age_bands` (empty: the default bands)."""
    if bounds in (None, []):
        return
    try:
        clean_age_bands(bounds if isinstance(bounds, list | tuple) else [bounds])
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def age_on(date_of_birth, reference):
    """Completed years at `reference` (a birthday on 29 February falls on 1 March)."""
    before_birthday = (reference.month, reference.day) < (date_of_birth.month, date_of_birth.day)
    return reference.year - date_of_birth.year - before_birthday


def band_key(bounds, index):
    """The key of band `index` of `bounds` ("15-24", "50+"; "<15" below the first)."""
    if index < 0:
        return f"<{bounds[0]}"
    if index == len(bounds) - 1:
        return f"{bounds[index]}+"
    return f"{bounds[index]}-{bounds[index + 1] - 1}"


def age_bands(bounds=DEFAULT_AGE_BANDS):
    """(key, label) of each band, the youngest first."""
    return [(band_key(bounds, i), band_key(bounds, i).replace("-", "–")) for i in range(-1, len(bounds))]


def age_band(date_of_birth, reference, bounds=DEFAULT_AGE_BANDS):
    """The band of a person born on `date_of_birth` at `reference`."""
    age = age_on(date_of_birth, reference)
    index = max((i for i, b in enumerate(bounds) if age >= b), default=-1)
    return band_key(bounds, index)


def _born_by(reference, years):
    """The last birth date of those at least `years` old at `reference`."""
    year = reference.year - years
    try:
        return reference.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return datetime.date(year, 2, 28)


def age_band_expression(field, reference, bounds=DEFAULT_AGE_BANDS):
    """`age_band` in SQL, of the birth date `field`: the bands' first birthdays as dates."""
    whens = [When(**{f"{field}__gt": _born_by(reference, bounds[0])}, then=Value(band_key(bounds, -1)))]
    whens += [
        When(**{f"{field}__gt": _born_by(reference, bounds[i + 1])}, then=Value(band_key(bounds, i)))
        for i in range(len(bounds) - 1)
    ]
    return Case(*whens, default=Value(band_key(bounds, len(bounds) - 1)), output_field=CharField())


# ---- disability (Washington Group Short Set) -----------------------------------------


def disability(answers):
    """ "yes" when at least one domain has "a lot of difficulty" or "cannot do at all",
    "no" when some domain is answered and none does, UNKNOWN when none is answered (not
    asked, no consent). `answers`: {domain: answer or None}."""
    given = [answers.get(domain) for domain in WG_DOMAINS if answers.get(domain) is not None]
    if any(answer in WG_CUT_OFF for answer in given):
        return "yes"
    return "no" if given else UNKNOWN


def disability_of(applicant):
    """`disability` of an applicant's stored answers (their sensitive facts)."""
    facts = getattr(applicant, "sensitive", None) if hasattr(applicant, "sensitive") else None
    if facts is None:
        return UNKNOWN
    return disability({domain: getattr(facts, domain) for domain in WG_DOMAINS})


def disability_expression(prefix):
    """`disability` in SQL; `prefix` leads to the ApplicantSensitive row (e.g.
    "applicant__sensitive__")."""
    cut_off = Q()
    answered = Q()
    for domain in WG_DOMAINS:
        cut_off |= Q(**{f"{prefix}{domain}__in": [int(a) for a in WG_CUT_OFF]})
        answered |= Q(**{f"{prefix}{domain}__isnull": False})
    return Case(
        When(cut_off, then=Value("yes")),
        When(answered, then=Value("no")),
        default=Value(UNKNOWN),
        output_field=CharField(),
    )


# ---- sex --------------------------------------------------------------------------------


def sex_key(value):
    return value or UNKNOWN


def sex_expression(field):
    """`sex_key` in SQL: the choice, UNKNOWN when not recorded."""
    return Case(When(**{field: ""}, then=Value(UNKNOWN)), default=F(field), output_field=CharField())


def sex_groups():
    return [*((value, str(label)) for value, label in Sex.choices), (UNKNOWN, str(_("Not recorded")))]
