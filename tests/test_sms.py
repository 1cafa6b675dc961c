"""SMS: parts counted as phones count them, sent once from the outbox through a fake
Infobip over HTTP (tests/smsserver.py), delivery reports and STOP on signed callbacks."""

import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from applicants.services import is_stop, set_contact_channels
from core.errors import ServiceError
from grants import notify, services, sms
from grants.models import AuditEvent, Notification
from grants.sms_provider import signature_valid
from grants.tasks import deliver

from .browser import fixtures
from .factories import ApplicantFactory
from .smsserver import API_KEY, SECRET, FakeInfobip

live_server = fixtures.live_server
PHONE = "+381641234567"
KOSOVO_PHONE = "+38344123456"


@pytest.fixture
def fake(settings):
    server = FakeInfobip(client_timeout=1).start()
    settings.SMS_BASE_URL = server.url
    settings.SMS_API_KEY = API_KEY
    settings.SMS_CALLBACK_SECRET = SECRET
    settings.SMS_CALLBACK_BASE_URL = "http://testserver"
    settings.SMS_TIMEOUT = 1
    settings.SMS_MAX_SEGMENTS = 2
    yield server
    server.stop()


def sms_row(key="test:sms", text="Your grant has been approved.", phone=PHONE):
    # queued inside an atomic block, as after commit: the task runs at once (tests)
    # and may fail; the tests then deliver by hand
    return notify.queue_sms(key=key, recipient=None, phone=phone, language="en", text=text)


class TestSegments:
    def test_a_serbian_text_with_diacritics_is_split_in_ucs2_parts(self):
        text = (
            "Vaša prijava za grant je odobrena. Uskoro ćemo kupiti opremu; "
            "terenski službenik će vas pozvati da dogovorite predaju. Hvala što učestvujete!"
        )
        assert len(text) == 141
        split = sms.split(text)
        assert split.encoding == sms.UCS2
        assert [len(part) for part in split.parts] == [67, 67, 7]
        assert "".join(split.parts) == text
        plain = sms.plain(text)
        assert plain.startswith("Vasa prijava za grant je odobrena. Uskoro cemo kupiti opremu;")
        assert "sluzbenik ce" in plain and "ucestvujete" in plain
        assert sms.split(plain) == sms.Split(sms.GSM7, (plain,))

    @pytest.mark.parametrize(
        ("text", "encoding", "sizes"),
        [
            ("a" * 160, sms.GSM7, [160]),
            ("a" * 161, sms.GSM7, [153, 8]),
            ("a" * 306, sms.GSM7, [153, 153]),
            ("a" * 307, sms.GSM7, [153, 153, 1]),
            ("č" * 70, sms.UCS2, [70]),
            ("č" * 71, sms.UCS2, [67, 4]),
            ("Mirë se vini", sms.UCS2, [12]),  # ë (Albanian) is outside GSM-7
            ("Faleminderit për çdo gjë", sms.UCS2, [24]),  # ç too
            ("Ça va, Müller? Å é ñ", sms.GSM7, [20]),  # Ç, ü, Å, é, ñ are in GSM-7
            ("đ", sms.UCS2, [1]),
        ],
    )
    def test_gsm7_and_ucs2_are_told_apart_and_counted(self, text, encoding, sizes):
        split = sms.split(text)
        assert split.encoding == encoding
        assert [len(part) for part in split.parts] == sizes

    def test_an_extension_character_counts_twice_and_is_never_cut_in_two(self):
        assert sms.split("a" * 158 + "€").segments == 1  # 160 septets
        split = sms.split("a" * 159 + "€")  # 161 septets
        assert [len(part) for part in split.parts] == [153, 7]
        split = sms.split("a" * 152 + "[" + "b" * 10)  # "[" would straddle parts 1 and 2
        assert split.parts[0] == "a" * 152
        assert split.parts[1].startswith("[")

    def test_a_text_too_long_is_sent_plain_then_without_its_closing(self, settings):
        settings.SMS_MAX_SEGMENTS = 1
        text = "Vaša prijava je odobrena. Uskoro ćemo kupiti opremu za vaš posao (#12)."
        assert sms.split(text).segments == 2
        assert sms.fit(text) == sms.plain(text)
        assert sms.split(sms.fit(text)).segments == 1
        closing = "Odgovorite STOP ako ne želite više poruka od nas; za pitanja pozovite terenskog službenika u centru."
        assert sms.fit(text, closing=closing) == sms.plain(text)
        assert sms.fit("Kratko.", closing="STOP") == "Kratko. STOP"

    def test_beyond_everything_the_text_is_cut_at_a_word(self):
        cut = sms.fit("word " * 100, limit=1)
        assert cut.endswith("word...")
        assert len(cut) <= 160

    @pytest.mark.parametrize("language", ["en", "sr-latn", "sq"])
    def test_every_state_sms_fits_the_default_maximum(self, world, language, settings):
        settings.SMS_MAX_SEGMENTS = 2
        app = world.application()
        for state in notify.STATE_MESSAGES:
            event = AuditEvent(application=app, to_state=state, action="x")
            text = notify.render_state_sms(event, language)
            assert sms.split(text).segments <= 2
            assert f"(#{app.pk})" in text


class TestSending:
    def test_a_failing_provider_is_retried_and_the_message_sent_once(self, db, fake):
        fake.fail_next(500, 502)
        with transaction.atomic():
            row = sms_row()
        row.refresh_from_db()
        assert (row.status, row.attempts, fake.accepted) == ("pending", 1, [])
        assert "500" in row.last_error
        assert deliver(row.pk) is False
        assert deliver(row.pk) is True
        assert deliver(row.pk) is False  # already sent: nothing more
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
        assert fake.texts_to(PHONE) == ["Your grant has been approved."]
        assert fake.accepted[0]["messageId"] == row.provider_message_id
        assert row.provider_message_id.startswith(f"grants-{row.pk}-")
        assert fake.accepted[0]["notifyUrl"] == "http://testserver/sms/callbacks/delivery-report/"
        assert (row.encoding, row.segments, row.delivery) == ("GSM-7", 1, "pending")

    @pytest.mark.parametrize("failure", ["lost", "timeout"])
    def test_a_message_taken_whose_answer_was_lost_is_not_sent_again(self, db, fake, failure):
        fake.fail_next(failure)
        with transaction.atomic():
            row = sms_row()
        row.refresh_from_db()
        assert row.status == "pending"
        assert len(fake.accepted) == 1  # the provider has it, we do not know
        assert deliver(row.pk) is True
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("sent", 2)
        assert fake.requests == 1  # the retry asked, it did not send
        assert len(fake.accepted) == 1

    def test_a_report_that_came_before_the_answer_is_not_undone(self, db, client, fake):
        fake.fail_next("lost")
        with transaction.atomic():
            row = sms_row()
        row.refresh_from_db()
        response = post_signed(
            client, "sms-delivery-report", fake, fake.report_payload(row.provider_message_id)
        )
        assert response.json() == {"updated": 1}
        assert deliver(row.pk) is True
        row.refresh_from_db()
        assert (row.status, row.delivery) == ("sent", "delivered")
        assert len(fake.accepted) == 1

    def test_a_refusal_retrying_cannot_change_fails_at_once(self, db, fake, settings):
        settings.SMS_API_KEY = "wrong"
        with transaction.atomic():
            row = sms_row()
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("failed", 1)
        assert "Invalid login details" in row.last_error
        assert deliver(row.pk) is False
        assert fake.accepted == []

    def test_without_a_provider_nothing_is_queued_by_sms(self, world, django_capture_on_commit_callbacks):
        set_contact_channels(applicant=world.person, by=world.officer, accepts_email=True, accepts_sms=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.take_transition(application=world.application(), name="submit", by=world.applicant)
        assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


class TestChannels:
    def test_sms_needs_a_phone_and_a_change_is_audited(self, world):
        person = ApplicantFactory(centre=world.centre, phone="")
        with pytest.raises(ServiceError) as refused:
            set_contact_channels(applicant=person, by=world.officer, accepts_email=True, accepts_sms=True)
        assert "accepts_sms" in refused.value.details
        person.refresh_from_db()
        assert (person.accepts_email, person.accepts_sms) == (True, False)

        person.phone = PHONE
        person.save()
        set_contact_channels(applicant=person, by=world.officer, accepts_email=False, accepts_sms=True)
        person.refresh_from_db()
        assert (person.accepts_email, person.accepts_sms, person.channels_recorded_by) == (
            False,
            True,
            world.officer,
        )
        event = AuditEvent.objects.get(action="contact_channels_changed", applicant=person)
        assert event.actor == world.officer
        assert event.data == {
            "before": {"email": True, "sms": False},
            "after": {"email": False, "sms": True},
            "how": "form",
        }

    def test_the_person_chooses_sms_only(self, world, fake, django_capture_on_commit_callbacks):
        person = world.person
        person.phone = PHONE
        person.save()
        set_contact_channels(applicant=person, by=world.officer, accepts_email=False, accepts_sms=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.take_transition(application=world.application(), name="submit", by=world.applicant)
        row = Notification.objects.get()
        assert (row.channel, row.phone, row.status, row.applicant) == ("sms", PHONE, "sent", person)
        assert fake.texts_to(PHONE) == [row.body]


def post_signed(client, name, fake, payload, **sign):
    body, headers = fake.signed(payload, **sign)
    return client.post(
        reverse(name),
        data=body,
        content_type="application/json",
        headers=headers,
    )


class TestCallbacks:
    def test_a_delivery_report_updates_the_status_and_the_cost(self, db, client, fake):
        with transaction.atomic():
            row = sms_row()
        row.refresh_from_db()
        response = post_signed(
            client, "sms-delivery-report", fake, fake.report_payload(row.provider_message_id, price="0.0390")
        )
        assert response.status_code == 200
        assert response.json() == {"updated": 1}
        row.refresh_from_db()
        assert (row.delivery, str(row.cost), row.cost_currency) == ("delivered", "0.03900", "EUR")
        assert row.delivered_at.isoformat() == "2026-12-06T08:00:05+00:00"
        assert row.delivery_detail == "Message delivered to handset"
        # a late "pending" report does not undo a final one
        post_signed(
            client, "sms-delivery-report", fake, fake.report_payload(row.provider_message_id, group=1)
        )
        row.refresh_from_db()
        assert row.delivery == "delivered"

    def test_the_cost_is_the_price_of_each_part(self, db, client, fake):
        with transaction.atomic():
            row = sms_row(text="Vaša prijava " * 10)
        row.refresh_from_db()
        assert (row.encoding, row.segments) == ("UCS-2", 2)
        payload = fake.report_payload(row.provider_message_id, price="0.0390", parts=2)
        post_signed(client, "sms-delivery-report", fake, payload)
        row.refresh_from_db()
        assert str(row.cost) == "0.07800"

    @pytest.mark.parametrize(
        "forge",
        [
            {"secret": "another-secret-0123456789abcdefghij"},
            {"timestamp": int(time.time()) - 3600},
            "tampered",
            "unsigned",
        ],
    )
    def test_a_bad_signature_is_refused_and_changes_nothing(self, world, client, fake, forge):
        with transaction.atomic():
            row = sms_row()
        row.refresh_from_db()
        person = ApplicantFactory(centre=world.centre, phone=PHONE, accepts_sms=True)
        for name, payload in (
            ("sms-delivery-report", fake.report_payload(row.provider_message_id)),
            ("sms-inbound", fake.inbound_payload(PHONE, "STOP")),
        ):
            if isinstance(forge, dict):
                response = post_signed(client, name, fake, payload, **forge)
            else:
                body, headers = fake.signed(payload)
                if forge == "tampered":
                    body = body.replace(b"STOP", b"STOQ").replace(b"DELIVERED", b"REJECTED")
                else:
                    headers = {}
                response = client.post(
                    reverse(name), data=body, content_type="application/json", headers=headers
                )
            assert response.status_code == 403
        row.refresh_from_db()
        person.refresh_from_db()
        assert row.delivery == "pending"
        assert person.accepts_sms is True
        assert not AuditEvent.objects.filter(action="contact_channels_changed").exists()

    def test_a_get_is_not_allowed(self, db, client):
        assert client.get(reverse("sms-delivery-report")).status_code == 405

    def test_signature_rules(self):
        now = 1_800_000_000
        body, headers = FakeInfobip.signed(
            FakeInfobip.__new__(FakeInfobip), {"results": []}, secret=SECRET, timestamp=now
        )
        check = {"body": body, "secret": SECRET, "max_age": 300, "now": now + 10}
        assert signature_valid(timestamp=headers["X-Timestamp"], signature=headers["X-Signature"], **check)
        assert not signature_valid(timestamp=str(now - 400), signature=headers["X-Signature"], **check)
        assert not signature_valid(timestamp="soon", signature=headers["X-Signature"], **check)
        check["secret"] = ""
        assert not signature_valid(
            timestamp=headers["X-Timestamp"], signature=headers["X-Signature"], **check
        )


class TestStop:
    @pytest.mark.parametrize("reply", ["STOP", "stop", " Stop. ", "NDALO"])
    def test_stop_stops_at_once(self, world, client, fake, reply):
        person = world.person
        person.phone = PHONE
        person.save()
        set_contact_channels(applicant=person, by=world.officer, accepts_email=True, accepts_sms=True)
        fake.fail_next(503)
        with transaction.atomic():
            waiting = sms_row(key="test:waiting")
        waiting.refresh_from_db()
        assert waiting.status == "pending"

        response = post_signed(client, "sms-inbound", fake, fake.inbound_payload(PHONE, reply))

        assert response.status_code == 200
        assert response.json() == {"opted_out": 1}
        person.refresh_from_db()
        assert (person.accepts_sms, person.accepts_email) == (False, True)
        event = AuditEvent.objects.filter(action="contact_channels_changed", applicant=person).latest("pk")
        assert event.actor is None
        assert event.data["how"] == "stop_reply"
        assert event.data["after"] == {"email": True, "sms": False}
        waiting.refresh_from_db()
        assert waiting.status == "failed"
        assert deliver(waiting.pk) is False
        assert fake.accepted == []

    def test_other_replies_change_nothing(self, world, client, fake):
        person = ApplicantFactory(centre=world.centre, phone=PHONE, accepts_sms=True)
        response = post_signed(client, "sms-inbound", fake, fake.inbound_payload(PHONE, "Kada stiže oprema?"))
        assert response.json() == {"opted_out": 0}
        person.refresh_from_db()
        assert person.accepts_sms is True

    @pytest.mark.parametrize(
        ("text", "stop"),
        [("STOP", True), ("stop all", True), ("Ndal", True), ("stopwatch", False), ("", False)],
    )
    def test_what_counts_as_stop(self, text, stop):
        assert is_stop(text) is stop


@pytest.mark.django_db(transaction=True)
def test_acceptance_the_approval_reaches_an_sms_applicant_in_albanian_once_after_commit(
    world, live_server, settings
):
    server = FakeInfobip(client_timeout=5).start()
    try:
        settings.SMS_BASE_URL = server.url
        settings.SMS_API_KEY = API_KEY
        settings.SMS_CALLBACK_SECRET = SECRET
        settings.SMS_CALLBACK_BASE_URL = live_server.url
        person = world.person
        person.language = "sq"
        person.phone = KOSOVO_PHONE
        person.save()
        set_contact_channels(applicant=person, by=world.officer, accepts_email=False, accepts_sms=True)
        app = world.application(ready=True)

        with transaction.atomic():
            services.take_transition(
                application=app, name="approve", by=world.manager, comment="Plan i mirë."
            )
            assert server.accepted == []  # nothing leaves before the commit
        event = AuditEvent.objects.get(application=app, action="approve")
        notify.state_changed(event.pk)  # a repeated callback sends nothing more

        with translation.override("sq"):
            approved = gettext("Your grant has been approved. We will now buy the equipment.")
        assert approved != "Your grant has been approved. We will now buy the equipment."
        texts = server.texts_to(KOSOVO_PHONE)
        assert len(texts) == 1
        assert texts[0].startswith(f"{approved} (#{app.pk})")
        assert "Plan i mirë" not in texts[0]
        row = Notification.objects.get(channel="sms")
        assert (row.key, row.status, row.language, row.phone) == (
            f"sms:state:{event.pk}",
            "sent",
            "sq",
            KOSOVO_PHONE,
        )
        assert not Notification.objects.filter(channel="email").exists()

        assert server.report(row.provider_message_id, price="0.0450") == 200
        row.refresh_from_db()
        assert (row.delivery, str(row.cost)) == ("delivered", "0.04500")
    finally:
        server.stop()
