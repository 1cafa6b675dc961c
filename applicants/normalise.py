"""Normalising names, phone numbers and national IDs for duplicate detection."""

import re

import phonenumbers
from django.utils.translation import gettext as _
from unidecode import unidecode

# Cyrillic letters whose Latin spelling unidecode would not give as Serbs and Macedonians
# write it (ћ and ч both become c, as ć and č do once accents are dropped).
_CYRILLIC = str.maketrans(
    {
        "ђ": "dj",
        "Ђ": "Dj",
        "ј": "j",
        "Ј": "J",
        "љ": "lj",
        "Љ": "Lj",
        "њ": "nj",
        "Њ": "Nj",
        "ћ": "c",
        "Ћ": "C",
        "ч": "c",
        "Ч": "C",
        "џ": "dz",
        "Џ": "Dz",
        "ж": "z",
        "Ж": "Z",
        "ш": "s",
        "Ш": "S",
        "х": "h",
        "Х": "H",
        "ц": "c",
        "Ц": "C",
        "ѓ": "gj",
        "Ѓ": "Gj",
        "ќ": "kj",
        "Ќ": "Kj",
        "ѕ": "dz",
        "Ѕ": "Dz",
    }
)


def fold(text):
    """Lower-case ASCII of a name in Latin or Cyrillic script, accents and đ/dj unified."""
    text = (text or "").translate(_CYRILLIC)
    text = unidecode(text).lower()
    text = text.replace("dj", "d")
    return re.sub(r"[^a-z]+", " ", text).strip()


def name_key(first_name, last_name):
    return f"{fold(first_name)} {fold(last_name)}".strip()[:210]


def edit_distance(a, b, limit):
    """Damerau-Levenshtein distance (adjacent swaps count once), or limit + 1 as soon as
    it is certain to exceed `limit`: names are short and compared only with the few
    people born on the same day."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2 = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def names_match(key_a, key_b):
    """'same' for equal keys, 'similar' for the same names in another order, one name
    missing (a second surname), or a typo or two; None otherwise."""
    if not key_a or not key_b:
        return None
    if key_a == key_b:
        return "same"
    tokens_a, tokens_b = key_a.split(), key_b.split()
    if sorted(tokens_a) == sorted(tokens_b):
        return "similar"
    shorter, longer = sorted((tokens_a, tokens_b), key=len)
    if len(shorter) >= 2 and set(shorter) <= set(longer):
        return "similar"
    limit = 1 if min(len(key_a), len(key_b)) < 12 else 2
    if edit_distance(key_a, key_b, limit) <= limit:
        return "similar"
    if edit_distance(" ".join(sorted(tokens_a)), " ".join(sorted(tokens_b)), limit) <= limit:
        return "similar"
    return None


DEFAULT_REGION = "RS"


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw, region=DEFAULT_REGION):
    """E.164 (+381641234567); raises InvalidPhone with a sentence for a bad number.
    `region` is the country whose national numbers are meant (the centre's country)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_("This is not a phone number.")) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(_("This phone number has the wrong number of digits."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_national_id(raw):
    """Digits and letters only, upper case: '0203990 710012' and '0203990-710012' match."""
    return re.sub(r"[^0-9A-Za-z]+", "", str(raw or "")).upper()[:30]
