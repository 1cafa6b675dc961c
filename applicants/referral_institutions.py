"""The referring institution: chosen from a list (ReferralInstitution), or "other" with
a short name only. A referral written as free text is where offence details slip in
("referred after theft charges…"), so free text is short, warned against, and refused
when it reads like a story; texts written before the list that do not fit are kept
whole for a programme manager to review instead of being cut or lost.

The matching and sorting rules are plain functions of text so that the data migration
(applicants/migrations/0020) and the services apply the same ones.
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError

from .normalise import fold

OTHER = "other"
OTHER_MAX_LENGTH = 80
OTHER_WARNING = gettext_lazy(
    "Only the institution's name. Never write offences, sentences or the person's story."
)

# Folded word starts that tell of an offence, a sentence or a story rather than an
# institution's name, in English, Serbian and Albanian.
STORY_WORDS = (
    "theft",
    "stole",
    "steal",
    "robber",
    "murder",
    "kill",
    "assault",
    "violen",
    "drug",
    "fraud",
    "rape",
    "abuse",
    "offen",
    "crime",
    "criminal",
    "convict",
    "sentenc",
    "charge",
    "arrest",
    "because",
    "kradj",
    "krad",
    "pljack",
    "ubist",
    "ubio",
    "nasil",
    "droga",
    "narkot",
    "prevar",
    "silova",
    "krivic",
    "osuden",
    "presud",
    "uhapsen",
    "zbog",
    "vjedh",
    "grabit",
    "vras",
    "dhun",
    "drog",
    "mashtr",
    "denim",
    "arrestua",
    "sepse",
)
_STORY = re.compile(r"\b(" + "|".join(STORY_WORDS) + ")")
# A length of time (a sentence served): "3 years", "2 godine", "5 vjet".
_SPAN = re.compile(r"\b\d+\s*(?:years?|yrs?|months?|god|mesec|mjesec|vjet|muaj)")


def match_key(text):
    """A name compared with the list: case and spacing do not matter."""
    return " ".join(str(text or "").split()).casefold()


def looks_like_story(text):
    """True when `text` names an offence or tells what happened, not an institution."""
    return bool(_STORY.search(fold(text)) or _SPAN.search(str(text or "").casefold()))


def sort_legacy_value(text, entries):
    """Where a free-text referral written before the list goes: (entry id or None, the
    "other" text, the text kept for review). `entries` maps `match_key(name)` to an id.

    A list entry's name (case and spacing aside) becomes that entry; a short text that
    reads as a name becomes "other"; a longer one becomes "other" cut at the limit with
    the whole text kept for review; one that reads like a story becomes an empty
    "other", the whole text kept for review only. Nothing is lost."""
    text = " ".join(str(text or "").split())
    if not text:
        return None, "", ""
    entry = entries.get(match_key(text))
    if entry is not None:
        return entry, "", ""
    if looks_like_story(text):
        return None, "", text
    if len(text) > OTHER_MAX_LENGTH:
        return None, text[: OTHER_MAX_LENGTH - 1].rstrip() + "…", text
    return None, text, ""


def _refuse(field, message):
    return ServiceError(message, details={field: [message]})


def clean_referral(*, institutions, referral=None, other="", legacy=""):
    """(ReferralInstitution or None, other text) from a form or the API, or ServiceError.

    `referral` is an entry of `institutions` (a queryset of active ones), its id, or
    OTHER; `other` the name when OTHER is chosen. `legacy` is the old single text field
    (the API's `referral_institution`): a list entry's name becomes that entry, a short
    name "other"; a story or an over-long text is refused, never cut."""
    other = " ".join(str(other or "").split())
    legacy = " ".join(str(legacy or "").split())
    if legacy and (referral not in (None, "") or other):
        raise _refuse(
            "referral_institution",
            _("Give either the institution from the list (referral) or referral_institution, not both."),
        )
    if legacy:
        entry = {match_key(i.name): i for i in institutions}.get(match_key(legacy))
        if entry is not None:
            return entry, ""
        _check_other("referral_institution", legacy)
        return None, legacy
    if referral in (None, ""):
        if other:
            raise _refuse("referral_other", _("Choose “other” to write the institution's name."))
        return None, ""
    if referral == OTHER:
        if not other:
            raise _refuse("referral_other", _("Write the institution's name."))
        _check_other("referral_other", other)
        return None, other
    if other:
        raise _refuse("referral_other", _("Write a name only when the institution is not in the list."))
    if isinstance(referral, int | str) and not isinstance(referral, bool):
        entry = institutions.filter(pk=referral).first() if str(referral).isdigit() else None
    else:
        entry = institutions.filter(pk=referral.pk).first()
    if entry is None:
        raise _refuse("referral", _("Choose an institution from the list."))
    return entry, ""


def _check_other(field, text):
    if len(text) > OTHER_MAX_LENGTH:
        raise _refuse(
            field,
            _("The institution's name has at most %(count)d characters.") % {"count": OTHER_MAX_LENGTH},
        )
    if looks_like_story(text):
        raise _refuse(
            field,
            _("Write only the institution's name: no offences, sentences or the person's story."),
        )
