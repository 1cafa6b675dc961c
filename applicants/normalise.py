"""Normalising names and phone numbers for duplicate detection."""

import re

import phonenumbers
from unidecode import unidecode

# Serbian Cyrillic letters whose Latin spelling unidecode would not give as Serbs write it.
_SERBIAN = str.maketrans(
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
    }
)


def fold(text):
    """Lower-case ASCII of a name in Latin or Cyrillic script, accents and đ/dj unified."""
    text = (text or "").translate(_SERBIAN)
    text = unidecode(text).lower()
    text = text.replace("dj", "d")
    return re.sub(r"[^a-z]+", " ", text).strip()


def name_key(first_name, last_name):
    return f"{fold(first_name)} {fold(last_name)}".strip()[:210]


DEFAULT_REGION = "RS"


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw, region=DEFAULT_REGION):
    """E.164 (+381641234567); raises InvalidPhone with a sentence for a bad number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("This is not a phone number.") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("This phone number has the wrong number of digits.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
