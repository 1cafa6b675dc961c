"""Possible duplicates: people who may already be registered.

Checked before saving (the registration form and `POST applicants/` show them) and
flagged at registration for an officer to decide; never merged. A match is the same
national ID, the same phone number (E.164), or a similar name with the same birth date,
whatever the script (Cyrillic or Latin) and accents: "Марко Петровић" and "Marko
Petrovic" are the same key, and a one-letter typo or swapped first and last names still
match. The database narrows the candidates (one indexed query: same ID, same phone or
same birth date); names are then compared in Python on those few rows.

Asked by an officer (`check_possible_duplicates`), the answer names only people of the
officer's own centres; beyond them it says only that a possible match exists in another
centre, to take to a programme manager: no id, no centre, no reasons. Otherwise the check
would tell anyone who can register people whether a phone number or a name and birth
date is known anywhere, at a prison's social service for instance. Each check counts
against a per-user limit (shared by all processes through Django's cache) and is
audited (`duplicate_check`: who, why, how many matches of which kinds; never the name,
phone or ID searched for).
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError

from .models import Applicant, DuplicateFlag
from .normalise import InvalidPhone, name_key, names_match, normalise_national_id, normalise_phone
from .selectors import centre_ids_query

SAME_NATIONAL_ID = "same_national_id"
SAME_PHONE = "same_phone"
SAME_NAME_AND_BIRTH_DATE = "same_name_and_birth_date"
SIMILAR_NAME_AND_BIRTH_DATE = "similar_name_and_birth_date"
REASON_ORDER = [SAME_NATIONAL_ID, SAME_PHONE, SAME_NAME_AND_BIRTH_DATE, SIMILAR_NAME_AND_BIRTH_DATE]
# People born on one day in one programme's registry are few; this only bounds a
# pathological case (a placeholder birth date typed for everyone).
MAX_CANDIDATES = 500


def find_possible_duplicates(
    *, first_name, last_name, date_of_birth, phone="", national_id="", region=None, exclude=None
):
    """[(applicant, [reason, ...]), ...], strongest match first. Safe to call with raw
    form input: an unparsable phone number is simply not compared."""
    try:
        phone = normalise_phone(phone, region) if phone else ""
    except InvalidPhone:
        phone = ""
    national_id = normalise_national_id(national_id)
    key = name_key(first_name, last_name)

    conditions = Q()
    if date_of_birth and key:
        conditions |= Q(date_of_birth=date_of_birth)
    if national_id:
        conditions |= Q(national_id=national_id)
    if phone:
        conditions |= Q(phone=phone)
    if not conditions:
        return []
    candidates = Applicant.objects.filter(conditions, pseudonymised_at__isnull=True)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    found = []
    for other in candidates.select_related("centre").order_by("pk")[:MAX_CANDIDATES]:
        reasons = []
        if national_id and other.national_id == national_id:
            reasons.append(SAME_NATIONAL_ID)
        if phone and other.phone == phone:
            reasons.append(SAME_PHONE)
        if date_of_birth and other.date_of_birth == date_of_birth:
            match = names_match(key, other.name_key)
            if match == "same":
                reasons.append(SAME_NAME_AND_BIRTH_DATE)
            elif match == "similar":
                reasons.append(SIMILAR_NAME_AND_BIRTH_DATE)
        if reasons:
            found.append((other, reasons))
    found.sort(key=lambda pair: (min(REASON_ORDER.index(r) for r in pair[1]), pair[0].pk))
    return found


def pending_flags_for(user):
    """Duplicate flags still to decide, for the centres the user works at."""

    if not user.is_authenticated or not user.has_perm("applicants.decide_duplicate"):
        return DuplicateFlag.objects.none()
    return (
        DuplicateFlag.objects.filter(
            decision=DuplicateFlag.Decision.PENDING, applicant__centre_id__in=centre_ids_query(user)
        )
        .select_related("applicant__centre", "other__centre")
        .order_by("created_at", "id")
    )


# Why an officer checks: the audit row says it. Registration is the form's and the API's
# default; a check outside a registration says so.
PURPOSES = ("registration", "manual_check")
DEFAULT_PURPOSE = "registration"
ELSEWHERE_MESSAGE = _("A possible match exists in another centre: ask your programme manager.")


@dataclass
class DuplicateCheck:
    here: list  # [(applicant, [reason, ...]), ...]: people of the officer's centres
    elsewhere: bool  # a possible match beyond them (nothing more is said)


class TooManyChecks(ServiceError):
    status = 429

    def __init__(self, retry_after):
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            _("Too many duplicate checks. Try again in %(minutes)s minutes.") % {"minutes": minutes},
            code="too_many_checks",
        )
        self.retry_after = retry_after


def count_duplicate_check(user, *, now=None):
    """Count one check for `user` in the current window (`DUPLICATE_CHECK_WINDOW`
    seconds) or raise TooManyChecks past `DUPLICATE_CHECKS_PER_WINDOW`. The counter is
    in Django's cache: with a shared cache (database, Redis, memcached) every process
    counts the same checks. `add` then `incr` works on every backend; where `incr` is
    not atomic (the database cache) two checks at the same instant may count once,
    which a limit of this size tolerates."""
    window = settings.DUPLICATE_CHECK_WINDOW
    now = time.time() if now is None else now
    start = int(now // window) * window
    key = f"duplicate-checks:{user.pk}:{start}"
    if not cache.add(key, 1, timeout=window + 60):
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 60)
            count = 1
        if count > settings.DUPLICATE_CHECKS_PER_WINDOW:
            raise TooManyChecks(retry_after=int(start + window - now) + 1)
