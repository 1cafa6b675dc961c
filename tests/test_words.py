"""Issue 19's acceptance for the words: the Albanian sign-up page has no English left,
the Albanian timeline reads day first, and the certificate and handover protocol,
extracted to text, have no "/la" forms and the months in the right form."""

import datetime
import html
import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext
from pypdf import PdfReader

from assessments.certificates import completion_certificate
from grants import handover, pdf
from grants import services as grant_services

from .factories import ApplicantFactory, ApplicationFactory

pytestmark = pytest.mark.django_db

MARCH_2 = datetime.date(2026, 3, 2)


def pdf_text(data):
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def visible_text(body):
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    body = re.sub(r'(?s)<[^>]*\b(?:placeholder|title|aria-label|alt)="([^"]*)"[^>]*>', r" \1 ", body)
    return html.unescape(re.sub(r"(?s)<[^>]+>", "\n", body))


def text_nodes(body):
    return {" ".join(line.split()) for line in visible_text(body).split("\n") if line.strip()}


def page_in(client, language, url, data=None):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(url, data) if data is not None else client.get(url)
    return response.content.decode()


class TestSignUpPage:
    @pytest.fixture(autouse=True)
    def controller(self, settings):
        settings.DATA_CONTROLLER_NAME = "Qendra Humanitare"
        settings.DATA_CONTROLLER_CONTACT = "info@qendra.test"

    def test_the_albanian_sign_up_page_has_no_english_text(self, client, world):
        """Every English sentence of the page (Django's own included) is translated."""
        english = page_in(client, "en", reverse("signup"))
        albanian = page_in(client, "sq", reverse("signup"))
        # Names of centres and countries, the controller's and the e-mail are no words.
        proper = {str(c) for c in (world.centre, world.other_centre, world.serbia, world.kosovo)}
        left = [
            node
            for node in text_nodes(english)
            if re.search(r"[A-Za-z]{3}", node)
            and node in text_nodes(albanian)
            and not any(name in node for name in proper)
            and node not in {"Qendra Humanitare", "English", "Shqip", "Srpski (latinica)"}
        ]
        assert not left, left
        assert "- Select an option -" not in albanian

    def test_the_albanian_password_rule_is_in_albanian(self, client, world):
        data = {"first_name": "Arta", "password1": "short1", "password2": "short1", "centre": world.centre.pk}
        body = page_in(client, "sq", reverse("signup"), data)
        assert "This password is too short" not in body
        assert "Ky fjalëkalim është shumë i shkurtër" in body

    def test_serbian_labels_are_neutral(self, client, world):
        body = page_in(client, "sr-latn", reverse("signup"))
        assert "Osoba otpuštena iz zatvora" in body
        assert "osuđen" not in body.lower()
        assert "Poverenik" in body or "Povereniku" in body or "Poverenika" in body


class TestTimeline:
    def test_the_albanian_timeline_reads_day_first(self, client, world):
        application = world.application(business_name="Furra e Artës")
        grant_services.take_transition(application=application, name="submit", by=world.officer)
        client.force_login(world.applicant)
        body = page_in(client, "sq", reverse("my-applications"))
        now = timezone.localtime()
        assert now.strftime("%d.%m.%Y ") in body  # 06.12.2026 15:05
        assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{4}\b", body)
        assert "a.m." not in body and "p.m." not in body


class TestPdfWords:
    @pytest.mark.parametrize(
        ("language", "date", "done"),
        [
            ("sr-latn", "2. marta 2026.", "ima završenu obuku"),
            ("sq", "2 mars 2026", "ka përfunduar trajnimin"),
        ],
    )
    def test_the_certificate_has_no_slashed_forms_and_the_month_in_its_case(
        self, world, language, date, done
    ):
        person = ApplicantFactory(
            centre=world.centre, first_name="Vesna", last_name="Ilić", language=language
        )
        application = ApplicationFactory(applicant=person, programme=world.programme, training=True)
        _name, data = completion_certificate(by=world.officer, application=application, today=MARCH_2)
        text = pdf_text(data)
        assert date in text
        assert done in text
        assert "/la" not in text and "/e " not in text
        assert "Mart " not in text and "Mars " not in text

    @pytest.mark.parametrize(
        ("language", "months"),
        [("sr-latn", "3, 6 i 12 meseci"), ("sq", "3, 6 dhe 12 muaj")],
    )
    def test_the_handover_protocol_has_no_slashed_forms(self, world, language, months):
        person = ApplicantFactory(
            centre=world.centre, first_name="Vesna", last_name="Ilić", language=language
        )
        application = world.application(applicant=person, approved=True)
        text = pdf_text(handover.protocol_for(application=application, by=world.officer))
        assert "/la" not in text and "primio" not in text
        assert months in text

    def test_the_months_agree_with_their_number(self):
        assert pdf.months_phrase([3], "sr-latn") == "3 meseca"
        assert pdf.months_phrase([1], "sr-latn") == "1 mesec"
        assert pdf.months_phrase([6, 12], "sr-latn") == "6 i 12 meseci"
        assert pdf.months_phrase([21], "sr-latn") == "21 mesec"
        assert pdf.months_phrase([1], "en") == "1 month"

    def test_serbian_reminders_count_months_and_hours(self):
        with translation.override("sr-latn"):
            text = ngettext("Duration: %(hours)s hour", "Duration: %(hours)s hours", 24) % {"hours": 24}
            assert text == "Trajanje: 24 sata"
            visit = ngettext(
                "This %(months)s-month visit is due on %(due)s; it can be recorded from %(opens)s.",
                "This %(months)s-month visit is due on %(due)s; it can be recorded from %(opens)s.",
                3,
            ) % {"months": 3, "due": "x", "opens": "y"}
            assert "posle 3 meseca" in visit
