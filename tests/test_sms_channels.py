"""Channels the person accepts news by, through every door (registration forms, API,
the application page), role by role; officers' reminders by SMS; the SMS shown to
staff with delivery and cost; export and erasure of messages."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from applicants.models import StaffProfile
from applicants.services import set_contact_channels
from assessments.models import MonitoringVisit
from assessments.reminders import send_visit_reminders
from grants import notify, selectors
from grants.models import AuditEvent, Notification
from privacy import subjects

from .conftest import verified_login
from .factories import ApplicantFactory
from .smsserver import API_KEY, SECRET, FakeInfobip

pytestmark = pytest.mark.django_db
PHONE = "+381641234567"


@pytest.fixture
def fake(settings):
    server = FakeInfobip().start()
    settings.SMS_BASE_URL = server.url
    settings.SMS_API_KEY = API_KEY
    settings.SMS_CALLBACK_SECRET = SECRET
    settings.SMS_CALLBACK_BASE_URL = "http://testserver"
    settings.SMS_TIMEOUT = 1
    yield server
    server.stop()


@pytest.fixture
def with_phone(world):
    world.person.phone = PHONE
    world.person.save()
    return world.person


class TestApi:
    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("applicant", 200),
            ("officer", 200),
            ("colleague", 200),
            ("officer2", 404),
            ("finance", 403),
            ("auditor", 403),
        ],
    )
    def test_who_may_change_the_channels(self, world, api, with_phone, who, status):
        response = api(getattr(world, who)).put(
            f"/api/v1/applicants/{with_phone.pk}/channels/",
            {"accepts_email": False, "accepts_sms": True},
            format="json",
        )
        assert response.status_code == status
        with_phone.refresh_from_db()
        assert with_phone.accepts_sms is (status == 200)
        if status == 200:
            assert (response.json()["accepts_email"], response.json()["accepts_sms"]) == (False, True)
            event = AuditEvent.objects.get(action="contact_channels_changed")
            assert (event.actor, event.data["how"]) == (getattr(world, who), "api")

    def test_a_manager_reads_but_does_not_change(self, world, api, with_phone):
        response = api(world.manager).put(
            f"/api/v1/applicants/{with_phone.pk}/channels/",
            {"accepts_email": True, "accepts_sms": True},
            format="json",
        )
        assert response.status_code == 403
        detail = api(world.manager).get(f"/api/v1/applicants/{with_phone.pk}/").json()
        assert (detail["accepts_email"], detail["accepts_sms"]) == (True, False)

    def test_sms_without_a_phone_is_a_400_naming_the_field(self, world, api):
        world.person.phone = ""
        world.person.save()
        response = api(world.officer).put(
            f"/api/v1/applicants/{world.person.pk}/channels/",
            {"accepts_email": True, "accepts_sms": True},
            format="json",
        )
        assert response.status_code == 400
        assert "accepts_sms" in json.dumps(response.json())
        assert not AuditEvent.objects.filter(action="contact_channels_changed").exists()

    def test_registration_by_api_takes_the_channels(self, world, api):
        response = api(world.officer).post(
            "/api/v1/applicants/",
            {
                "first_name": "Jelena",
                "last_name": "Ilić",
                "date_of_birth": "1990-03-02",
                "phone": "064 123 4567",
                "centre": world.centre.pk,
                "target_groups": ["returnee"],
                "consent_given": True,
                "special_consents": ["return"],
                "accepts_email": False,
                "accepts_sms": True,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["phone"], body["accepts_email"], body["accepts_sms"]) == (PHONE, False, True)
        assert body["channels_recorded_at"]


class TestForms:
    def test_the_officer_registers_a_person_who_wants_sms(self, world, client):
        verified_login(client, world.officer)
        response = client.post(
            reverse("applicant-register"),
            {
                "first_name": "Arben",
                "last_name": "Krasniqi",
                "date_of_birth": "1988-05-01",
                "phone": "+383 44 123 456",
                "centre": world.centre.pk,
                "target_groups": ["returnee"],
                "household_size": 1,
                "dependants": 0,
                "language": "sq",
                "channels": ["sms"],
                "consent_given": "on",
                "consent_return": "on",
            },
        )
        assert response.status_code == 302
        person = world.centre.applicants.get(last_name="Krasniqi")
        assert (person.phone, person.accepts_email, person.accepts_sms) == ("+38344123456", False, True)
        assert person.channels_recorded_by == world.officer

    def test_sms_without_a_phone_is_refused_on_the_field(self, world, client):
        verified_login(client, world.officer)
        response = client.post(
            reverse("applicant-register"),
            {
                "first_name": "Arben",
                "last_name": "Krasniqi",
                "date_of_birth": "1988-05-01",
                "centre": world.centre.pk,
                "target_groups": ["returnee"],
                "household_size": 1,
                "dependants": 0,
                "language": "sq",
                "channels": ["sms"],
                "consent_given": "on",
            },
        )
        assert response.status_code == 400
        assert response.context["form"].errors["channels"]
        assert not world.centre.applicants.filter(last_name="Krasniqi").exists()

    def test_the_officer_changes_the_channels_on_the_page(self, world, client, with_phone):
        app = world.application()
        verified_login(client, world.officer)
        response = client.post(reverse("application-channels", args=[app.pk]), {"channels": ["sms"]})
        assert response.status_code == 302
        with_phone.refresh_from_db()
        assert (with_phone.accepts_email, with_phone.accepts_sms) == (False, True)

    @pytest.mark.parametrize(("who", "status"), [("finance", 403), ("officer2", 404), ("manager", 403)])
    def test_others_may_not_change_them(self, world, client, with_phone, who, status):
        app = world.application()
        verified_login(client, getattr(world, who))
        response = client.post(reverse("application-channels", args=[app.pk]), {"channels": ["sms"]})
        assert response.status_code == status
        with_phone.refresh_from_db()
        assert with_phone.accepts_sms is False


class TestPage:
    def test_staff_see_each_sms_with_its_delivery_and_cost(self, world, client, fake, with_phone):
        app = world.application()
        with transaction.atomic():
            for n in range(3):
                notify.queue_sms(
                    key=f"t{n}",
                    recipient=None,
                    applicant=with_phone,
                    phone=PHONE,
                    language="en",
                    text="Hello",
                )
        Notification.objects.filter(key="t0").update(
            delivery="delivered", cost="0.03900", cost_currency="EUR"
        )
        verified_login(client, world.officer)
        response = client.get(reverse("application-detail", args=[app.pk]))
        assert response.context["news"]["sms"] == []  # listed on request only
        response = client.get(reverse("application-detail", args=[app.pk]), {"show": "messages"})
        assert response.status_code == 200
        news = response.context["news"]
        assert len(news["sms"]) == 3 and news["may_change"]
        content = response.content.decode()
        assert "0.03900 EUR" in content and "Delivered" in content

    def test_finance_does_not_see_the_section(self, world, client):
        app = world.application()
        verified_login(client, world.finance)
        response = client.get(reverse("application-detail", args=[app.pk]))
        assert "news" not in response.context

    def test_the_list_costs_one_query_however_many_messages(
        self, world, with_phone, django_assert_num_queries
    ):
        Notification.objects.bulk_create(
            [
                Notification(
                    key=f"k{n}", channel="sms", applicant=with_phone, phone=PHONE, subject="s", body="b"
                )
                for n in range(30)
            ]
        )
        with django_assert_num_queries(1):
            assert len(selectors.sms_to(with_phone)) == 20


class TestReminders:
    def test_an_officer_who_asked_gets_the_reminder_by_sms_too(self, world, fake):
        app = world.application(
            follow_up=True, state_facts__delivered_on=timezone.localdate() - datetime.timedelta(days=30)
        )
        MonitoringVisit.objects.filter(application=app, months=3).update(
            due_on=timezone.localdate() + datetime.timedelta(days=1)
        )
        StaffProfile.objects.create(user=world.officer, phone="+381601112233", sms_reminders=True)
        assert send_visit_reminders() == 1
        assert send_visit_reminders() == 0
        texts = fake.texts_to("+381601112233")
        assert len(texts) == 1
        assert f"#{app.pk}" in texts[0]
        assert app.business_name not in texts[0]
        assert Notification.objects.filter(channel="sms", recipient=world.officer).count() == 1


class TestPrivacy:
    def test_export_lists_the_messages_and_erasure_blanks_them(self, world, fake, with_phone):
        set_contact_channels(applicant=with_phone, by=world.officer, accepts_email=True, accepts_sms=True)
        with_phone.refresh_from_db()
        world.application(completed=True)
        with transaction.atomic():
            notify.queue_sms(
                key="sent", recipient=None, applicant=with_phone, phone=PHONE, language="en", text="Hi"
            )
        fake.fail_next(503)
        with transaction.atomic():
            notify.queue_sms(
                key="waiting", recipient=None, applicant=with_phone, phone=PHONE, language="en", text="Hey"
            )
        exported = subjects.applicant_data(with_phone)
        assert exported["applicant"]["accepts_sms"] is True
        assert [(m["channel"], m["to"], m["text"]) for m in exported["messages"]] == [
            ("sms", PHONE, "Hi"),
            ("sms", PHONE, "Hey"),
        ]
        call_command("erase_applicant", str(with_phone.pk), "--by", "manager", stdout=io.StringIO())
        with_phone.refresh_from_db()
        assert (with_phone.phone, with_phone.accepts_email, with_phone.accepts_sms) == ("", False, False)
        rows = Notification.objects.filter(channel="sms").order_by("key")
        assert [(r.key, r.phone, r.body, r.status) for r in rows] == [
            ("sent", "", "(erased)", "sent"),
            ("waiting", "", "(erased)", "failed"),
        ]


def test_an_applicant_factory_default_is_email_only(world):
    person = ApplicantFactory(centre=world.centre)
    assert (person.accepts_email, person.accepts_sms) == (True, False)
