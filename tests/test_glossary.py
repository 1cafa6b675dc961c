"""docs/glossary.md kept: a term's rejected translations appear in no catalogue entry
whose English names that term, and the stigmatising words in none at all.

Read from the compiled catalogues (what the service shows), with the standard
library's reader."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"

# (English words that name the term, the rejected translation): a catalogue entry whose
# msgid matches the first must not match the second.
RULES = {
    "sr_Latn": [
        # (a sentence about signing in that also names the application keeps "prijava")
        (r"^(?!.*\bapplication).*(\blog ?in\b|\bsign(ed)?[- ]in\b|\blogin\b)", r"\bprijav"),
        (r"\bbusiness|\benterprise", r"\bpos(ao|la|lu|lom|lovi|lova|lovima)\b"),
        (r"\bjobs?\b", r"\bpos(ao|la|lovi|lova)\b"),
        # (an assessment's score and pass mark are "ocena": the score's word)
        (r"^(?!.*\b(score|mark)).*\bassess", r"\bocen"),
        (r"\bfield officer", r"službeni"),
        (r"\bhandover protocol", r"primopredajn"),
        (r"\bprobation", r"probacij"),
        (r"\bconsent", r"saglasnost"),
    ],
    "sq": [
        (r"\bsubmit", r"dorëz"),
        (r"\bfollow-up", r"ndjekj"),
        (r"^record\b|^Record\b|\bis recorded\b|\bare recorded\b", r"\bregjistro(?!het në kurs)"),
        (r"\bfield officer", r"zyrtar"),
        (r"\bscores?\b", r"\bnot(a|ë|at)\b"),
        (r"\bprobation", r"\bprov[ëe]s\b|probacion"),
    ],
}
# Words that name a person by a sentence or by a state role: in no entry at all.
NEVER = {
    "sr_Latn": [r"osuđeni", r"zatvoreni(k|c)", r"/la\b", r"terenski službenik"],
    "sq": [r"ish-i burgosur", r"\bi dënuar", r"ndjekje penale", r"/e\b"],
}


def catalogue(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        entries = gettext.GNUTranslations(mo)._catalog
    by_msgid = {}
    for key, text in entries.items():
        msgid = key[0] if isinstance(key, tuple) else key
        msgid = msgid.split("\x04")[-1]
        if msgid:
            by_msgid.setdefault(msgid, []).append(text)
    return by_msgid


@pytest.mark.parametrize("language", sorted(RULES))
def test_no_rejected_translation_of_a_glossary_term(language):
    found = []
    for msgid, texts in catalogue(language).items():
        for english, rejected in RULES[language]:
            if re.search(english, msgid, re.IGNORECASE):
                found += [(msgid, t) for t in texts if re.search(rejected, t, re.IGNORECASE)]
    assert not found, f"rejected by docs/glossary.md: {found[:5]}"


@pytest.mark.parametrize("language", sorted(NEVER))
def test_no_stigmatising_or_slashed_word_anywhere(language):
    found = [
        (msgid, text)
        for msgid, texts in catalogue(language).items()
        for text in texts
        for word in NEVER[language]
        if re.search(word, text, re.IGNORECASE)
    ]
    assert not found, f"rejected by docs/glossary.md: {found[:5]}"


def test_the_glossary_lists_every_term_the_issue_names():
    text = (Path(settings.BASE_DIR) / "docs" / "glossary.md").read_text()
    for term in (
        "application",
        "submitted",
        "log in",
        "grant in kind",
        "business",
        "field officer",
        "integration centre",
        "cohort",
        "session",
        "assessment",
        "score",
        "handover protocol",
        "delivery",
        "monitoring visit",
        "upload",
        "beneficiary",
        "returnee",
        "person released from prison",
        "probation service",
    ):
        assert re.search(rf"^\| {re.escape(term)}\b", text, re.MULTILINE), term
