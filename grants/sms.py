"""SMS texts: how many parts a text takes, and keeping it within SMS_MAX_SEGMENTS.

A text goes in GSM-7 (the GSM 03.38 alphabet: 160 characters in one SMS, 153 in each
part of a longer one; the characters of the extension table, such as € [ ] { } ~ ^ | \\,
take two) unless one character is outside that alphabet: then the whole text goes in
UCS-2 (70 characters, 67 per part; a character beyond the basic plane takes two). One
č, ć, ž, š, đ (Serbian) or ë, ç (Albanian) makes a text UCS-2, so a Serbian or Albanian
text takes about twice as many parts as its plain-letter form.

What is sent when a text would take more than SMS_MAX_SEGMENTS parts (`fit`):
1. the text as written, if it fits;
2. else the same text with its letters written without diacritics (č→c, ć→c, ž→z, š→s,
   đ→dj, ë→e, ç→c): still read easily by Serbian and Albanian speakers, and GSM-7;
3. else the text without its optional closing sentence, first as written, then plain;
4. else the plain text cut at a word boundary, ending in "...". Our own texts never get
   here (tests/test_sms.py checks every text in every language against the default
   maximum); a long business name or a comment is never put into an SMS.
"""

import unicodedata
from dataclasses import dataclass

from django.conf import settings

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (one part alone, each part of a longer message), in septets (GSM-7) or UTF-16 units
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

# The letters of Serbian (Latin) and Albanian outside GSM-7, in their plain form; the
# rest of Latin is folded by removing the accents (NFKD).
_PLAIN = str.maketrans(
    {
        "đ": "dj",
        "Đ": "Dj",
        "ë": "e",
        "Ë": "E",
        "ç": "c",
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
    }
)


@dataclass(frozen=True)
class Split:
    encoding: str
    parts: tuple

    @property
    def segments(self):
        return len(self.parts)


def encoding_of(text):
    return GSM7 if all(ch in _BASIC or ch in _EXTENSION for ch in text) else UCS2


def _units(ch, encoding):
    if encoding == GSM7:
        return 2 if ch in _EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def split(text):
    """The parts `text` is sent in. An escaped GSM-7 character or a surrogate pair is
    never cut between two parts (the phone would show garbage)."""
    encoding = encoding_of(text)
    single, each = LIMITS[encoding]
    if sum(_units(ch, encoding) for ch in text) <= single:
        return Split(encoding, (text,) if text else ())
    parts, current, used = [], [], 0
    for ch in text:
        units = _units(ch, encoding)
        if used + units > each:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += units
    if current:
        parts.append("".join(current))
    return Split(encoding, tuple(parts))


def plain(text):
    """`text` without diacritics, in GSM-7 where the letters allow (see the module)."""
    out = []
    for ch in text.translate(_PLAIN):
        if ch in _BASIC or ch in _EXTENSION:
            out.append(ch)
            continue
        folded = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(folded or "?")
    return "".join(out)


def max_segments():
    return settings.SMS_MAX_SEGMENTS


def fit(text, *, closing="", limit=None):
    """The text to send (see the module): `text`, with `closing` after it if it fits."""
    limit = limit or max_segments()
    full = f"{text} {closing}".strip() if closing else text
    for candidate in (full, plain(full), text, plain(text)):
        if split(candidate).segments <= limit:
            return candidate
    short = plain(text)
    single, each = LIMITS[GSM7]
    room = (single if limit == 1 else each * limit) - 3
    cut = short
    while sum(_units(ch, GSM7) for ch in cut) > room:
        cut = cut[:-1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "..."
