"""Background work: the applicant hears of every state change in their language, after
commit, retried on failure and never blocking the transition; officers get each visit
reminder once, however often the job runs."""

import datetime
from io import StringIO
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from applicants import roles
from applicants.models import StaffAssignment
from assessments.models import MonitoringVisit
from assessments.reminders import send_visit_reminders
from assessments.tasks import send_reminders
from grants import notify, services
from grants.models import AuditEvent, Notification
from grants.tasks import MAX_ATTEMPTS, deliver, send_notification, send_pending

from .factories import ApplicantFactory, staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPException("451 mail server busy")


@pytest.fixture
def failing_mail(settings):
    working = settings.MAILERS
    settings.MAILERS = {"default": {"BACKEND": "tests.test_notifications.FailingBackend"}}
    yield lambda: setattr(settings, "MAILERS", working)


def submit(app, by, callbacks):
    with callbacks(execute=True):
        return services.take_transition(application=app, name="submit", by=by)


class TestStateChanges:
    @pytest.mark.parametrize(
        ("language", "subject_start", "body"),
        [
            (
                "en",
                "Your application",
                "Your application has been submitted. A field officer will contact you.",
            ),
            ("sr-latn", "Vaša prijava", "Vaša prijava je podneta. Terenski saradnik će vas kontaktirati."),
            ("sq", "Aplikimi juaj", "Aplikimi juaj u paraqit. Një punonjës në terren do t'ju kontaktojë."),
        ],
    )
    def test_the_applicant_is_told_in_their_language(
        self, world, django_capture_on_commit_callbacks, language, subject_start, body
    ):
        world.person.language = language
        world.person.save()
        app = submit(world.application(), world.officer, django_capture_on_commit_callbacks)

        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [world.person.email]
        assert message.subject.startswith(subject_start)
        assert app.business_name in message.subject
        assert body in message.body
        note = Notification.objects.get()
        event = AuditEvent.objects.get(application=app, action="submit")
        assert (note.key, note.status, note.language, note.attempts) == (
            f"state:{event.pk}",
            "sent",
            language,
            1,
        )

    def test_the_comment_and_state_are_translated_in_serbian_and_albanian(
        self, world, django_capture_on_commit_callbacks
    ):
        world.person.language = "sr-latn"
        world.person.save()
        app = world.application(submitted=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.take_transition(
                application=app, name="reject", by=world.manager, comment="Nema tržišta."
            )
        serbian = mail.outbox[-1]
        assert "Odbijena" in serbian.subject
        assert "Komentar: Nema tržišta." in serbian.body

        event = AuditEvent.objects.get(application=app, action="reject")
        subject, body = notify.render_state_change(event, "sq")
        assert "Refuzuar" in subject
        assert "Koment: Nema tržišta." in body

    def test_every_transition_is_told_once(self, world, django_capture_on_commit_callbacks):
        app = submit(world.application(), world.applicant, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            services.take_transition(application=app, name="withdraw", by=world.applicant)
        assert len(mail.outbox) == 2
        event = AuditEvent.objects.get(application=app, action="withdraw")
        notify.state_changed(event.pk)  # a repeated callback sends nothing more
        assert len(mail.outbox) == 2
        assert Notification.objects.count() == 2

    def test_nothing_is_sent_before_commit_nor_for_a_rolled_back_transition(
        self, world, django_capture_on_commit_callbacks
    ):
        app = world.application()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.take_transition(application=app, name="submit", by=world.officer)
            assert mail.outbox == []
            assert not Notification.objects.exists()
        # The transition's own notice (the webhooks' dispatcher may add its own callback).
        assert len([c for c in callbacks if "take_transition" in c.__qualname__]) == 1

        other = world.application()
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            services.take_transition(application=other, name="submit", by=world.officer)
            transaction.set_rollback(True)
        assert callbacks == []
        assert mail.outbox == []

    def test_an_applicant_without_email_gets_none_and_the_transition_goes_on(
        self, world, django_capture_on_commit_callbacks
    ):
        person = ApplicantFactory(centre=world.centre, email="")
        app = submit(world.application(applicant=person), world.officer, django_capture_on_commit_callbacks)
        assert app.state == "submitted"
        assert not Notification.objects.exists()


class TestFailures:
    def test_a_failing_mail_server_is_retried_until_it_works(
        self, world, failing_mail, django_capture_on_commit_callbacks
    ):
        app = submit(world.application(), world.officer, django_capture_on_commit_callbacks)

        app.refresh_from_db()
        assert app.state == "submitted"  # the transition did not wait for the mail
        note = Notification.objects.get()
        assert (note.status, note.attempts, note.last_error) == ("pending", 1, "451 mail server busy")
        assert mail.outbox == []

        assert send_pending(older_than=datetime.timedelta(0)) == 0
        note.refresh_from_db()
        assert (note.status, note.attempts) == ("pending", 2)

        failing_mail()
        out = StringIO()
        call_command("send_pending_notifications", "--older-than", "0", stdout=out)
        assert out.getvalue().strip() == "1 notification(s) sent."
        note.refresh_from_db()
        assert (note.status, note.attempts, note.last_error) == ("sent", 3, "")
        assert len(mail.outbox) == 1
        call_command("send_pending_notifications", "--older-than", "0", stdout=StringIO())
        assert len(mail.outbox) == 1

    def test_on_the_database_backend_a_retry_is_scheduled_with_a_delay(self, world, failing_mail, settings):
        from django_tasks_db.models import DBTaskResult

        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        note = notify.queue(
            key="test:retry", recipient=None, email="a@example.test", language="en", subject="S", body="B"
        )
        first = DBTaskResult.objects.get()
        assert (first.task_path, first.status) == ("grants.tasks.send_notification", "READY")
        assert Notification.objects.get().attempts == 0  # the worker sends it, not the request

        assert deliver(note.pk) is False
        retry = DBTaskResult.objects.exclude(pk=first.pk).get()
        assert retry.task_path == "grants.tasks.send_notification"
        delay = retry.run_after - timezone.now()
        assert datetime.timedelta(minutes=1) < delay <= datetime.timedelta(minutes=2)

    def test_it_gives_up_after_the_last_attempt(self, world, failing_mail):
        note = notify.queue(
            key="test:give-up", recipient=None, email="a@example.test", language="en", subject="S", body="B"
        )
        for _attempt in range(MAX_ATTEMPTS):
            send_notification.enqueue(note.pk)
        note.refresh_from_db()
        assert (note.status, note.attempts) == ("failed", MAX_ATTEMPTS)
        assert send_pending(older_than=datetime.timedelta(0)) == 0

    def test_an_unavailable_worker_or_a_broken_outbox_never_blocks_the_transition(
        self, world, monkeypatch, django_capture_on_commit_callbacks
    ):
        def refuse(*args, **kwargs):
            raise ConnectionError("queue down")

        class Unreachable:
            enqueue = staticmethod(refuse)

        monkeypatch.setattr("grants.tasks.send_notification", Unreachable())
        app = submit(world.application(), world.officer, django_capture_on_commit_callbacks)
        assert app.state == "submitted"
        assert Notification.objects.get().status == "pending"  # the sweep sends it later

        monkeypatch.setattr(notify, "queue", refuse)
        other = submit(world.application(), world.officer, django_capture_on_commit_callbacks)
        other.refresh_from_db()
        assert other.state == "submitted"

    def test_a_notification_already_claimed_by_another_worker_is_not_sent_twice(self, world):
        note = notify.queue(
            key="test:claimed", recipient=None, email="a@example.test", language="en", subject="S", body="B"
        )
        assert len(mail.outbox) == 1
        Notification.objects.filter(pk=note.pk).update(status="pending")  # as if still sending
        stale = Notification.objects.get(pk=note.pk)
        Notification.objects.filter(pk=note.pk).update(attempts=stale.attempts + 1)  # claimed meanwhile
        assert deliver(note.pk) is True  # this claim wins: one more attempt, sent once
        assert len(mail.outbox) == 2
        assert deliver(note.pk) is False
        assert len(mail.outbox) == 2


@pytest.fixture
def due_tomorrow(world):
    app = world.application(follow_up=True, state_facts__delivered_on=TODAY - datetime.timedelta(days=30))
    visit = app.visits.get(months=3)
    MonitoringVisit.objects.filter(pk=visit.pk).update(due_on=TODAY + datetime.timedelta(days=1))
    visit.refresh_from_db()
    return visit


class TestReminders:
    def test_a_visit_due_tomorrow_gives_exactly_one_reminder_however_often_the_job_runs(
        self, world, due_tomorrow
    ):
        assert send_visit_reminders() == 1
        assert send_visit_reminders() == 0
        send_reminders.enqueue()
        call_command("send_reminders", stdout=StringIO())
        call_command("send_reminders", stdout=StringIO())

        reminder = Notification.objects.get()
        assert (
            reminder.key
            == f"visit-due:{due_tomorrow.pk}:{due_tomorrow.due_on.isoformat()}:{world.officer.pk}"
        )
        assert (reminder.recipient, reminder.status, reminder.language) == (world.officer, "sent", "sr-latn")
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [world.officer.email]
        assert "Poseta praćenja" in mail.outbox[0].subject
        assert due_tomorrow.application.business_name in mail.outbox[0].body

    def test_an_overdue_visit_gets_one_more_reminder_once(self, world, due_tomorrow):
        send_visit_reminders()
        assert send_visit_reminders(today=TODAY + datetime.timedelta(days=2)) == 1
        assert send_visit_reminders(today=TODAY + datetime.timedelta(days=3)) == 0
        keys = sorted(Notification.objects.values_list("key", flat=True))
        assert [k.split(":")[0] for k in keys] == ["visit-due", "visit-overdue"]
        assert "Zakasnela poseta praćenja" in mail.outbox[-1].subject

    def test_recorded_far_and_finished_visits_are_not_reminded(self, world, due_tomorrow):
        record = MonitoringVisit.objects.filter(pk=due_tomorrow.pk)
        record.update(due_on=TODAY + datetime.timedelta(days=8))
        assert send_visit_reminders() == 0
        record.update(due_on=TODAY, visited_on=TODAY)
        assert send_visit_reminders() == 0
        completed = world.application(completed=True)
        completed.visits.update(visited_on=None, due_on=TODAY - datetime.timedelta(days=1))
        assert send_visit_reminders() == 0
        assert not Notification.objects.exists()

    def test_when_the_assigned_officer_left_the_centre_its_field_officers_are_reminded(
        self, world, due_tomorrow
    ):
        StaffAssignment.objects.filter(user=world.officer).delete()
        newcomer = staff(roles.FIELD_OFFICER, world.centre, username="newcomer")
        send_visit_reminders()
        officers_there = {
            a.user.username
            for a in StaffAssignment.objects.filter(centre=world.centre).select_related("user")
            if roles.has_role(a.user, roles.FIELD_OFFICER)
        }
        reminded = set(Notification.objects.values_list("recipient__username", flat=True))
        assert reminded == officers_there
        assert {"colleague", "newcomer"} <= reminded
        assert "officer" not in reminded
        assert newcomer.email in {m.to[0] for m in mail.outbox}

    def test_albanian_centres_get_albanian_reminders(self, world):
        app = world.application(
            applicant=world.person2,
            programme=world.other_programme,
            assigned_officer=world.officer2,
            follow_up=True,
            state_facts__delivered_on=TODAY - datetime.timedelta(days=100),
        )
        send_visit_reminders()
        reminder = Notification.objects.get(recipient=world.officer2)
        assert reminder.language == "sq"
        assert reminder.subject.startswith("Vizitë monitorimi e vonuar")
        assert app.business_name in reminder.body

    def test_the_job_does_not_grow_its_queries_with_the_visits(self, world):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def queries_with(visits):
            while MonitoringVisit.objects.filter(visited_on__isnull=True).count() < visits * 3:
                world.application(
                    follow_up=True,
                    state_facts__delivered_on=TODAY - datetime.timedelta(days=100),
                    state_facts__assessor=world.colleague,
                    state_facts__approver=world.manager,
                    applicant=ApplicantFactory(centre=world.centre),
                )
            send_visit_reminders()
            with CaptureQueriesContext(connection) as context:
                assert send_visit_reminders() == 0
            return len(context.captured_queries)

        few, many = queries_with(1), queries_with(4)
        assert few == many <= 4
