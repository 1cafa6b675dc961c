"""One grant per person and household in a programme: who counts as the same person or
the same household as an application's people (the applicant and, for a cooperative,
its members).

- the same person: the same registration, or one that an officer decided is the same
  person (a DuplicateFlag decided "same person", either way round);
- the same household: the same household reference recorded on the people (a family
  card number, say), or the same address in the same municipality, compared after
  normalising (script, accents, case, punctuation and the words "street" and "number"
  do not count; house numbers do).

The rule that asks it is `grants.workflow.ONE_GRANT_PER_HOUSEHOLD`, a guard of the
approval; a programme manager may override it for one application with a reason
(`grants.services.record_household_override`). The grants it looks at are the
programme's active ones (`State.GRANTED`). A handful of queries, whatever the number of
grants: the programme's active grants are read as plain values and compared in Python.
"""

import re

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from unidecode import unidecode

from applicants.models import Applicant, DuplicateFlag

SAME_PERSON = "same_person"
SAME_HOUSEHOLD = "same_household"
SAME_ADDRESS = "same_address"
REASONS = {
    SAME_PERSON: _("the same person"),
    SAME_HOUSEHOLD: _("the same household"),
    SAME_ADDRESS: _("the same address"),
}
STRENGTH = [SAME_PERSON, SAME_HOUSEHOLD, SAME_ADDRESS]

# Words that say "street" or "number" in the addresses people write (Serbian, Albanian,
# English): "ul. Vojvode Mišića br. 5" and "Vojvode Misica 5" are one address.
_NOISE = {"ul", "ulica", "br", "broj", "rr", "rruga", "nr", "str", "street", "st", "no"}
_PERSON_FIELDS = ("pk", "address", "municipality", "household_ref")


def reference_key(ref):
    """Digits and letters only, upper case: "FK-0012 3" and "fk00123" are one reference."""
    return re.sub(r"[^0-9A-Z]+", "", unidecode(ref or "").upper())


def address_key(address, municipality):
    """The address and municipality as compared, or "" for no address."""
    words = [w for w in re.findall(r"[a-z]+|[0-9]+", unidecode(address or "").lower()) if w not in _NOISE]
    if not words:
        return ""
    place = " ".join(re.findall(r"[a-z0-9]+", unidecode(municipality or "").lower()))
    return f"{place}|{' '.join(words)}"


def _keys(address, municipality, ref):
    return reference_key(ref), address_key(address, municipality)


def people_of(application):
    """(pk, address, municipality, household_ref) of the applicant and the members."""
    return list(
        Applicant.objects.filter(Q(pk=application.applicant_id) | Q(cooperative_applications=application))
        .distinct()
        .values_list(*_PERSON_FIELDS)
    )


def same_people(person_ids):
    """`person_ids` and every registration decided to be the same person as one of them."""
    ids = set(person_ids)
    flags = DuplicateFlag.objects.filter(decision=DuplicateFlag.Decision.SAME_PERSON).filter(
        Q(applicant__in=ids) | Q(other__in=ids)
    )
    for applicant_id, other_id in flags.values_list("applicant_id", "other_id"):
        ids.update((applicant_id, other_id))
    return ids


def conflicts(application, *, states):
    """[(application id, reason), ...]: the programme's other grants in `states` held by
    the same person or household as `application`'s people, strongest reason first."""
    people = people_of(application)
    ids = same_people(pk for pk, *_rest in people)
    refs, addresses = set(), set()
    for _pk, address, municipality, ref in people:
        ref_key, place_key = _keys(address, municipality, ref)
        refs.add(ref_key)
        addresses.add(place_key)
    refs.discard("")
    addresses.discard("")

    others = (
        type(application)
        .objects.filter(programme_id=application.programme_id, state__in=states)
        .exclude(pk=application.pk)
    )
    rows = list(
        others.values_list(
            "pk", "applicant_id", "applicant__address", "applicant__municipality", "applicant__household_ref"
        )
    )
    rows += list(
        Applicant.objects.filter(cooperative_applications__in=others.values("pk")).values_list(
            "cooperative_applications", *_PERSON_FIELDS
        )
    )
    found = {}
    for other_id, person_id, address, municipality, ref in rows:
        ref_key, place_key = _keys(address, municipality, ref)
        if person_id in ids:
            reason = SAME_PERSON
        elif ref_key and ref_key in refs:
            reason = SAME_HOUSEHOLD
        elif place_key and place_key in addresses:
            reason = SAME_ADDRESS
        else:
            continue
        if other_id not in found or STRENGTH.index(reason) < STRENGTH.index(found[other_id]):
            found[other_id] = reason
    return sorted(found.items(), key=lambda pair: (STRENGTH.index(pair[1]), pair[0]))


def is_overridden(application):
    """A programme manager allowed this application a second grant in the household."""
    try:
        application.household_override  # noqa: B018 - the reverse one-to-one's row
    except ObjectDoesNotExist:
        return False
    return True


def describe(found):
    """ "#12 (the same person), #15 (the same address)"."""
    return ", ".join(f"#{pk} ({REASONS[reason]})" for pk, reason in found)
