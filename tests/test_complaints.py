"""Complaints and feedback (docs/complaints.md): submitted by anyone, followed up with a
reference and a code, cases of sexual misconduct or abuse of power seen by the focal
point only, deadlines, escalation once, the register, abuse limits, personal data."""

import datetime
import io
import time
from io import StringIO

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from applicants import roles
from complaints import abuse, permissions, selectors, services
from complaints.models import Category, Channel, Complaint, ComplaintAttachment, Status
from core.errors import ServiceError
from grants.models import AuditEvent, Notification
from privacy import subjects

from .conftest import verified_login
from .documents.support import jpeg
from .factories import PDF_BYTES, ApplicantFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def focal(world):
    return staff(roles.SAFEGUARDING_FOCAL_POINT, username="focal")


def complain(world, *, category=Category.DELAY, centre=None, by=None, channel=Channel.PUBLIC_FORM, **kwargs):
    kwargs.setdefault("email", "person@example.org")
    return services.submit_complaint(
        by=by,
        channel=channel,
        category=category,
        description="The equipment did not come.",
        language="en",
        centre=centre or world.centre,
        **kwargs,
    )


def public_post(client, **fields):
    data = {
        "category": "delay",
        "centre": "",
        "description": "Nobody answers since March.",
        "name": "",
        "email": "",
        "phone": "",
        "website": "",
        "started": abuse.form_token(now=time.time() - 60),
        **fields,
    }
    return client.post(reverse("complaint-new"), data)


# ---- submitting ---------------------------------------------------------------------------


def test_a_public_complaint_without_an_account_is_followed_up_with_its_reference_and_code(
    world, django_capture_on_commit_callbacks
):
    client = Client()
    assert client.get(reverse("complaint-new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = public_post(client, centre=world.centre.pk, email="anon@example.org")
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    code = response.context["code"]
    assert complaint.reference == f"C-{timezone.now().year}-{complaint.pk:06d}"
    assert complaint.reference.encode() in response.content and code.encode() in response.content
    assert code not in complaint.code_digest and len(code) == services.CODE_LENGTH
    assert (complaint.channel, complaint.status, complaint.owner) == (
        "public_form",
        "received",
        world.manager,
    )
    assert AuditEvent.objects.filter(action="complaint_received", data__complaint=complaint.pk).count() == 1
    assert [m.to for m in mail.outbox] == [["anon@example.org"]]
    assert complaint.reference in mail.outbox[0].body and "Nobody answers" not in mail.outbox[0].body

    follow = client.post(
        reverse("complaint-follow-up"), {"reference": complaint.reference.lower(), "code": code}
    )
    assert follow.status_code == 200 and follow.context["complaint"] == complaint
    services.resolve_complaint(complaint=complaint, by=world.manager, outcome="The oven arrives on Monday.")
    follow = client.post(reverse("complaint-follow-up"), {"reference": complaint.reference, "code": code})
    page = follow.content.decode()
    assert "The oven arrives on Monday." in page and "Resolved" in page
    # The status and the outcome, nothing else.
    assert "Nobody answers" not in page and "anon@example.org" not in page

    wrong = client.post(
        reverse("complaint-follow-up"), {"reference": complaint.reference, "code": "AAAAAAAA"}
    )
    assert wrong.status_code == 404 and wrong.context["complaint"] is None


def test_the_public_form_names_the_missing_centre_and_changes_nothing(world):
    response = public_post(Client())
    assert response.status_code == 400
    assert "Choose the centre the complaint is about." in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_signed_in_applicant_complains_about_their_own_application(world):
    app = world.application()
    client = verified_login(Client(), world.applicant)
    response = client.post(
        reverse("complaint-new"),
        {"category": "decision", "description": "I was not told why.", "application": app.pk},
    )
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert (complaint.applicant, complaint.application, complaint.centre, complaint.channel) == (
        world.person,
        app,
        world.centre,
        "account",
    )
    other = world.application(applicant=world.person2)
    response = client.post(
        reverse("complaint-new"), {"category": "decision", "description": "x", "application": other.pk}
    )
    assert response.status_code == 400 and Complaint.objects.count() == 1


def test_staff_record_a_phone_complaint_on_someones_behalf(world):
    client = verified_login(Client(), world.officer)
    assert client.get(reverse("complaint-new")).url == reverse("complaint-record")
    response = client.post(
        reverse("complaint-record"),
        {
            "channel": "phone",
            "category": "equipment",
            "centre": world.centre.pk,
            "description": "Broken saw.",
        },
    )
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert (complaint.channel, complaint.recorded_by, complaint.owner) == (
        "phone",
        world.officer,
        world.manager,
    )
    assert (
        client.post(reverse("complaint-record"), {"channel": "email", "category": "equipment"}).status_code
        == 400
    )
    assert Complaint.objects.count() == 1


# ---- who sees what ------------------------------------------------------------------------


def test_a_misconduct_case_is_seen_by_the_focal_point_only(world, focal, api):
    complaint, _code = complain(world, category=Category.SAFEGUARDING)
    assert complaint.owner == focal
    admin = staff(roles.PROGRAMME_MANAGER, world.centre, username="admin")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    others = [world.officer, world.colleague, world.manager, world.finance, world.auditor, world.procurement]
    for user in [*others, admin, world.applicant]:
        assert not permissions.can_view(user, complaint).allowed
        assert not selectors.visible_complaints(user).exists()
        client = verified_login(Client(), user)
        assert client.get(reverse("complaint-detail", args=[complaint.pk])).status_code in (403, 404)
        assert api(user).get(reverse("api:complaint", args=[complaint.pk])).status_code in (403, 404)
        listed = api(user).get(reverse("api:complaints"))
        assert listed.status_code == 403 or listed.json()["count"] == 0
    assert list(selectors.visible_complaints(focal)) == [complaint]
    client = verified_login(Client(), focal)
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert page.status_code == 200 and "The equipment did not come." in page.content.decode()
    assert api(focal).get(reverse("api:complaints")).json()["count"] == 1
    # The trail names the case by id only.
    event = AuditEvent.objects.get(action="complaint_received")
    assert event.data == {"complaint": complaint.pk, "attachments": 0}
    assert event.application_id is None and event.applicant_id is None


def test_the_focal_point_sees_no_ordinary_case_and_centre_staff_see_theirs(world, focal):
    ordinary, _ = complain(world)
    elsewhere, _ = complain(world, centre=world.other_centre)
    assert not selectors.visible_complaints(focal).exists()
    assert set(selectors.visible_complaints(world.officer)) == {ordinary}
    assert set(selectors.visible_complaints(world.officer2)) == {elsewhere}
    assert set(selectors.visible_complaints(world.manager)) == {ordinary, elsewhere}
    assert permissions.can_handle(world.manager, ordinary).allowed
    assert not permissions.can_handle(world.officer, ordinary).allowed
    for user in (world.finance, world.auditor, world.procurement, world.applicant):
        assert not selectors.visible_complaints(user).exists()


def test_the_applications_officer_does_not_see_a_staff_conduct_case_about_themselves(world):
    app = world.application()
    about_officer, _ = complain(world, category=Category.STAFF_CONDUCT, application=app)
    about_colleague, _ = complain(world, category=Category.OTHER, about_user=world.colleague)
    delay_on_app, _ = complain(world, category=Category.DELAY, application=app)
    assert set(selectors.visible_complaints(world.officer)) == {about_colleague, delay_on_app}
    assert set(selectors.visible_complaints(world.colleague)) == {about_officer, delay_on_app}
    for complaint in (about_officer, about_colleague, delay_on_app):
        for user in (world.officer, world.colleague, world.manager):
            in_list = selectors.visible_complaints(user).filter(pk=complaint.pk).exists()
            assert permissions.can_view(user, complaint).allowed == in_list


def test_the_staff_list_takes_the_same_queries_whatever_the_number_of_cases(
    world, django_assert_max_num_queries
):
    client = verified_login(Client(), world.manager)
    for _ in range(3):
        complain(world)
    with django_assert_max_num_queries(13):
        assert client.get(reverse("complaint-list")).status_code == 200
    for _ in range(20):
        complain(world)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("complaint-list"))
    assert len(response.context["page"]) == 23


# ---- acknowledging, resolving, escalation ------------------------------------------------------


def test_a_case_is_acknowledged_noted_and_resolved_with_the_person_told(
    world, django_capture_on_commit_callbacks
):
    complaint, _ = complain(world, email="p@example.org")
    complaint.language = "sq"
    complaint.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.acknowledge_complaint(complaint=complaint, by=world.manager)
        services.add_note(complaint=complaint, by=world.manager, text="Called the supplier.")
        services.resolve_complaint(complaint=complaint, by=world.manager, outcome="Delivered.")
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.acknowledged_at and complaint.resolved_at
    actions = list(
        AuditEvent.objects.filter(data__complaint=complaint.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "complaint_received",
        "complaint_acknowledged",
        "complaint_note_added",
        "complaint_resolved",
    ]
    keys = set(Notification.objects.values_list("key", flat=True))
    assert {f"complaint-acknowledged:{complaint.pk}", f"complaint-resolved:{complaint.pk}"} <= keys
    resolved = Notification.objects.get(key=f"complaint-resolved:{complaint.pk}")
    assert resolved.language == "sq" and "Delivered." in resolved.body
    with pytest.raises(ServiceError):
        services.resolve_complaint(complaint=complaint, by=world.manager, outcome="Again.")
    with pytest.raises(ServiceError):
        services.add_note(complaint=complaint, by=world.manager, text="x" * 2001)


def test_only_handlers_answer_and_bad_input_changes_nothing(world):
    complaint, _ = complain(world)
    with pytest.raises(Exception) as refused:
        services.acknowledge_complaint(complaint=complaint, by=world.officer)
    assert refused.type.__name__ == "NotAllowed"
    client = verified_login(Client(), world.manager)
    response = client.post(reverse("complaint-resolve", args=[complaint.pk]), {"outcome": ""})
    assert response.status_code == 400
    complaint.refresh_from_db()
    assert complaint.status == Status.RECEIVED


def test_an_overdue_case_escalates_once(world, focal, django_capture_on_commit_callbacks):
    world.manager.email = "manager@example.org"
    world.manager.save()
    focal.email = "focal@example.org"
    focal.save()
    late, _ = complain(world)
    late_sea, _ = complain(world, category=Category.SAFEGUARDING)
    in_time, _ = complain(world)
    past = timezone.now() - datetime.timedelta(days=1)
    Complaint.objects.filter(pk__in=[late.pk, late_sea.pk]).update(acknowledge_by=past)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("escalate_complaints", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue() == 0
        call_command("escalate_complaints", stdout=StringIO())
    assert sorted(m.to[0] for m in mail.outbox) == ["focal@example.org", "manager@example.org"]
    sea_mail = next(m for m in mail.outbox if m.to == ["focal@example.org"])
    assert late_sea.reference in sea_mail.subject
    assert AuditEvent.objects.filter(action="complaint_escalated").count() == 2
    assert Complaint.objects.filter(escalated_at__isnull=False).count() == 2
    in_time.refresh_from_db()
    assert in_time.escalated_at is None


# ---- the register --------------------------------------------------------------------------


def test_the_register_counts_by_category_and_withholds_small_counts(world, focal):
    for _ in range(2):
        complain(world, category=Category.SAFEGUARDING)
    done, _ = complain(world)
    complain(world)
    services.acknowledge_complaint(complaint=done, by=world.manager)
    done = services.resolve_complaint(complaint=done, by=world.manager, outcome="Sorted.")
    Complaint.objects.filter(pk=done.pk).update(received_at=done.resolved_at - datetime.timedelta(days=2))

    manager = {row.category: row for row in selectors.complaint_register(world.manager)}
    assert (manager["delay"].received, manager["delay"].open, manager["delay"].resolved) == (2, 1, 1)
    assert manager["delay"].days_to_resolve == 2.0
    assert manager["safeguarding"].withheld and manager["safeguarding"].received is None

    sea = {row.category: row for row in selectors.complaint_register(focal)}
    assert list(sea) == ["safeguarding"] and sea["safeguarding"].received == 2
    auditor = {row.category: row for row in selectors.complaint_register(world.auditor)}
    assert auditor["delay"].withheld and auditor["safeguarding"].withheld
    assert selectors.complaint_register(world.finance) == []
    assert selectors.complaint_register(world.officer) == []

    client = verified_login(Client(), world.manager)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="complaint-register"' in page
    assert verified_login(Client(), focal).get(reverse("complaint-register")).status_code == 200


# ---- abuse ---------------------------------------------------------------------------------


def test_the_public_form_is_rate_limited_per_address(world, settings):
    settings.COMPLAINT_FORM_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [public_post(client, centre=world.centre.pk).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert Complaint.objects.count() == 2
    assert public_post(Client(REMOTE_ADDR="203.0.113.10"), centre=world.centre.pk).status_code == 200


def test_the_honeypot_and_the_fill_time_refuse_robots_and_save_nothing(world):
    client = Client()
    assert public_post(client, centre=world.centre.pk, website="http://spam.example").status_code == 400
    too_fast = public_post(client, centre=world.centre.pk, started=abuse.form_token())
    assert too_fast.status_code == 400 and "very quick" in too_fast.content.decode()
    assert public_post(client, centre=world.centre.pk, started="forged:token").status_code == 400
    assert not Complaint.objects.exists()


def test_an_attachment_is_checked_like_a_document(world):
    photo = SimpleUploadedFile("scene.jpg", jpeg(gps=True), content_type="image/jpeg")
    complaint, _ = complain(world, attachment=photo)
    stored = ComplaintAttachment.objects.get(complaint=complaint)
    assert stored.content_type == "image/jpeg" and stored.file.name.startswith("complaints/")
    with stored.file.open("rb") as handle:
        assert not Image.open(io.BytesIO(handle.read())).getexif()
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ServiceError) as refused:
        complain(world, attachment=fake)
    assert refused.value.status == 415 and Complaint.objects.count() == 1
    client = verified_login(Client(), world.manager)
    response = client.get(reverse("complaint-attachment", args=[stored.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert (
        verified_login(Client(), world.finance)
        .get(reverse("complaint-attachment", args=[stored.pk]))
        .status_code
        == 404
    )
    pdf = SimpleUploadedFile("letter.pdf", PDF_BYTES, content_type="application/pdf")
    assert complain(world, attachment=pdf)[0].attachments.get().content_type == "application/pdf"


# ---- personal data -------------------------------------------------------------------------


def test_complaints_are_exported_erased_and_kept_no_longer_than_the_rest(world, settings):
    person = ApplicantFactory(centre=world.centre, with_user=True)
    mine, _ = complain(
        world, applicant=person, name="Marko", attachment=SimpleUploadedFile("a.pdf", PDF_BYTES)
    )
    sea, _ = complain(world, category=Category.SAFEGUARDING, applicant=person)
    data = subjects.applicant_data(person)
    assert [c["reference"] for c in data["complaints"]] == [mine.reference]

    subjects.erase_applicant(applicant=person, reason="Asked to be forgotten.")
    for complaint in (mine, sea):
        complaint.refresh_from_db()
        assert (complaint.name, complaint.email, complaint.applicant_id) == ("", "", None)
        assert complaint.description == services.ERASED and complaint.anonymised_at
    assert not ComplaintAttachment.objects.exists()

    old, _ = complain(world)
    services.resolve_complaint(complaint=old, by=world.manager, outcome="Done.")
    later = timezone.now() + datetime.timedelta(days=settings.RETENTION_DAYS + 1)
    assert services.apply_complaint_retention(now=later) == 1
    old.refresh_from_db()
    assert old.email == "" and old.category == "delay" and old.resolved_at


def test_a_person_who_reads_sms_is_told_by_sms(world, django_capture_on_commit_callbacks):
    """A registered person who accepts SMS hears of their case by SMS (issue 20's channel),
    someone on the public form with only a phone number too; the text names the reference
    and, once resolved, the outcome."""
    world.person.phone, world.person.accepts_sms = "+381641234567", True
    world.person.save()
    with django_capture_on_commit_callbacks(execute=True):
        mine, _ = complain(world, applicant=world.person, email="")
        by_phone, _ = complain(world, email="", phone="064 765 4321")
        services.acknowledge_complaint(complaint=mine, by=world.manager)
        services.resolve_complaint(complaint=mine, by=world.manager, outcome="Delivered on Monday.")
    sent = Notification.objects.filter(channel=Notification.Channel.SMS)
    assert set(sent.values_list("phone", flat=True)) == {"+381641234567", "+381647654321"}
    resolved = sent.get(key=f"complaint-resolved:{mine.pk}")
    assert mine.reference in resolved.body and "Delivered on Monday." in resolved.body
    assert resolved.segments >= 1
    assert not Notification.objects.filter(
        key__startswith="complaint-", channel=Notification.Channel.EMAIL, applicant=world.person
    ).exists()
