"""Visits that mean what they say: a visit is recorded at the earliest
VISIT_EARLY_MARGIN_DAYS before it is due (web form and API), the form is dated today
and takes photos (stored as documents, EXIF stripped), and the survival and jobs
figures count only visits recorded inside their window."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import formats, timezone, translation

from assessments.models import MonitoringVisit, visit_in_window, visit_in_window_q
from assessments.selectors import outcome_indicators, survival_and_jobs
from assessments.services import record_visit
from core.errors import ServiceError
from grants.models import AuditEvent, Document, GrantApplication

from .conftest import verified_login
from .documents.support import jpeg, png

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def days(n):
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def delivered_today(world):
    """Delivered today: its visits are due in 3, 6 and 12 months."""
    return world.application(follow_up=True, state_facts__delivered_on=TODAY)


class TestTheWindow:
    def test_the_12_month_visit_on_the_delivery_day_is_refused_with_the_sentence(
        self, world, delivered_today
    ):
        twelve = delivered_today.visits.get(months=12)

        with translation.override("en"), pytest.raises(ServiceError) as refused:
            record_visit(
                by=world.officer, visit=twelve, visited_on=TODAY, operating=True, equipment_in_use=True
            )

        opens = twelve.due_on - datetime.timedelta(days=30)
        assert refused.value.code == "visit_too_early"
        with translation.override("en"):
            due, start = formats.date_format(twelve.due_on), formats.date_format(opens)
        assert str(refused.value) == f"This 12-month visit is due on {due}; it can be recorded from {start}."
        assert "visited_on" in refused.value.details
        twelve.refresh_from_db()
        assert twelve.visited_on is None
        assert not AuditEvent.objects.filter(action="visit_recorded").exists()

    def test_inside_the_window_it_is_accepted(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        three = app.visits.get(months=3)  # due about 10 days ago: late, still fine
        six = app.visits.get(months=6)
        assert six.due_on - TODAY <= datetime.timedelta(days=90)

        record_visit(by=world.officer, visit=three, visited_on=TODAY, operating=True, equipment_in_use=True)

        assert MonitoringVisit.objects.get(pk=three.pk).visited_on == TODAY

    def test_the_first_day_of_the_window_is_inside(self, world, settings):
        settings.VISIT_EARLY_MARGIN_DAYS = 10
        app = world.application(follow_up=True, state_facts__delivered_on=days(-88))
        three = app.visits.get(months=3)
        opens = three.due_on - datetime.timedelta(days=10)
        assert opens <= TODAY, "the factory's dates leave the window open today"
        assert three.window_opens == opens
        assert (
            visit_in_window(opens, three.due_on),
            visit_in_window(opens - datetime.timedelta(days=1), three.due_on),
        ) == (True, False)

        record_visit(by=world.officer, visit=three, visited_on=opens, operating=True, equipment_in_use=True)

    def test_the_margin_is_a_setting(self, world, delivered_today, settings):
        settings.VISIT_EARLY_MARGIN_DAYS = 400
        twelve = delivered_today.visits.get(months=12)

        record_visit(by=world.officer, visit=twelve, visited_on=TODAY, operating=True, equipment_in_use=True)

    def test_the_api_refuses_it_too_and_says_from_when(self, world, api, delivered_today):
        twelve = delivered_today.visits.get(months=12)
        body = {"visited_on": TODAY.isoformat(), "operating": True, "equipment_in_use": True, "jobs": 1}

        response = api(world.officer).post(f"/api/v1/visits/{twelve.pk}/record/", body, format="json")

        assert response.status_code == 400
        assert response.json()["code"] == "visit_too_early"
        assert "it can be recorded from" in response.json()["detail"]
        listed = api(world.officer).get(f"/api/v1/applications/{delivered_today.pk}/visits/").json()
        row = next(
            v for v in (listed["results"] if isinstance(listed, dict) else listed) if v["months"] == 12
        )
        assert row["window_opens"] == (twelve.due_on - datetime.timedelta(days=30)).isoformat()

    def test_the_python_rule_and_the_sql_agree(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        rows = list(app.visits.all())
        for visit, visited_on in zip(rows, [days(-1), days(-200), None], strict=False):
            MonitoringVisit.objects.filter(pk=visit.pk).update(visited_on=visited_on)
        in_sql = set(
            MonitoringVisit.objects.filter(visit_in_window_q(), application=app).values_list("pk", flat=True)
        )
        in_python = {v.pk for v in MonitoringVisit.objects.filter(application=app) if v.in_window}
        assert in_sql == in_python
        assert len(in_sql) == 1


class TestTheForm:
    def test_it_is_dated_today(self, client, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        three = app.visits.get(months=3)

        response = verified_login(client, world.officer).get(reverse("visit-form", args=[three.pk]))

        assert response.context["form"]["visited_on"].value() == TODAY
        assert f'value="{TODAY.isoformat()}"' in response.content.decode()

    def test_it_says_from_when_a_visit_can_be_recorded(self, client, world, delivered_today):
        twelve = delivered_today.visits.get(months=12)
        officer = verified_login(client, world.officer)

        response = officer.post(
            reverse("visit-form", args=[twelve.pk]),
            {
                "visited_on": TODAY.isoformat(),
                "operating": "yes",
                "equipment_in_use": "yes",
                "jobs_owner": 1,
                "jobs_family": 0,
                "jobs_employees": 0,
            },
        )

        assert response.status_code == 400
        assert "it can be recorded from" in response.content.decode()

    def test_photos_are_uploaded_with_the_visit_without_their_exif(self, client, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        three = app.visits.get(months=3)
        raw = jpeg()
        assert b"PhoneMaker" in raw

        response = verified_login(client, world.officer).post(
            reverse("visit-form", args=[three.pk]),
            {
                "visited_on": TODAY.isoformat(),
                "operating": "yes",
                "equipment_in_use": "yes",
                "jobs_owner": 1,
                "jobs_family": 0,
                "jobs_employees": 0,
                "photos": [
                    SimpleUploadedFile("shop.jpg", raw, content_type="image/jpeg"),
                    SimpleUploadedFile("tools.png", png(), content_type="image/png"),
                ],
            },
        )

        assert response.status_code == 302, response.content.decode()
        photos = Document.objects.filter(application=app, kind="photo").order_by("pk")
        assert [d.original_name for d in photos] == ["shop.jpg", "tools.png"]
        with photos[0].file.open("rb") as stored:
            kept = stored.read()
        assert kept.startswith(b"\xff\xd8") and b"PhoneMaker" not in kept
        event = AuditEvent.objects.get(application=app, action="visit_recorded")
        assert event.data["photos"] == [d.pk for d in photos]

    def test_a_refused_visit_keeps_no_photo(self, client, world, delivered_today):
        twelve = delivered_today.visits.get(months=12)

        verified_login(client, world.officer).post(
            reverse("visit-form", args=[twelve.pk]),
            {
                "visited_on": TODAY.isoformat(),
                "operating": "yes",
                "equipment_in_use": "yes",
                "jobs_owner": 1,
                "jobs_family": 0,
                "jobs_employees": 0,
                "photos": [SimpleUploadedFile("shop.jpg", jpeg(), content_type="image/jpeg")],
            },
        )

        assert not Document.objects.filter(kind="photo").exists()

    def test_a_photo_that_is_not_an_image_refuses_the_whole_visit(self, client, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        three = app.visits.get(months=3)

        response = verified_login(client, world.officer).post(
            reverse("visit-form", args=[three.pk]),
            {
                "visited_on": TODAY.isoformat(),
                "operating": "yes",
                "equipment_in_use": "yes",
                "jobs_owner": 1,
                "jobs_family": 0,
                "jobs_employees": 0,
                "photos": [
                    SimpleUploadedFile("shop.jpg", b"#!/bin/sh\necho hi\n", content_type="image/jpeg")
                ],
            },
        )

        assert response.status_code in (400, 415)
        three.refresh_from_db()
        assert three.visited_on is None
        assert not Document.objects.filter(kind="photo").exists()

    def test_the_api_takes_photos_in_a_multipart_request(self, world, api):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        three = app.visits.get(months=3)

        response = api(world.officer).post(
            f"/api/v1/visits/{three.pk}/record/",
            {
                "visited_on": TODAY.isoformat(),
                "operating": "true",
                "equipment_in_use": "true",
                "jobs": '{"owner": 1, "family": 1}',
                "photos": [SimpleUploadedFile("shop.jpg", jpeg(), content_type="image/jpeg")],
            },
            format="multipart",
        )

        assert response.status_code == 200, response.content
        assert response.json()["jobs"] == 2
        assert Document.objects.filter(application=app, kind="photo").count() == 1


class TestTheFigures:
    def test_a_12_month_visit_recorded_early_does_not_count(self, world):
        """As the data had it before the rule: all three visits on the delivery day, the
        grant completed. It counts neither as operating after 12 months nor in the jobs."""
        early = world.application(follow_up=True, state_facts__delivered_on=days(-400))
        early.visits.update(
            visited_on=days(-400), operating=True, equipment_in_use=True, jobs_owner=1, jobs_employees=3
        )
        GrantApplication.objects.filter(pk=early.pk).update(state="completed")
        proper = world.application(follow_up=True, state_facts__delivered_on=days(-400))
        for visit in proper.visits.all():
            MonitoringVisit.objects.filter(pk=visit.pk).update(
                visited_on=visit.due_on, operating=True, equipment_in_use=True, jobs_owner=1, jobs_family=1
            )
        GrantApplication.objects.filter(pk=proper.pk).update(state="completed")

        figures = survival_and_jobs(GrantApplication.objects.filter(pk__in=[early.pk, proper.pk]))

        assert (figures["survived_12m"], figures["closed_by_12m"]) == (1, 0)
        assert (figures["businesses_visited"], figures["jobs_created"]) == (1, 2)

    def test_an_early_12_month_visit_leaves_the_grant_awaiting_it(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-370))
        twelve = app.visits.get(months=12)
        assert twelve.due_on <= TODAY
        MonitoringVisit.objects.filter(pk=twelve.pk).update(visited_on=days(-360), operating=True)

        figures = outcome_indicators(GrantApplication.objects.filter(pk=app.pk))

        assert (figures["survived_12m"], figures["awaiting_12m_visit"]) == (0, 1)

    def test_a_discontinued_grant_with_an_early_visit_counts_as_closed(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
        MonitoringVisit.objects.filter(application=app, months=12).update(
            visited_on=days(-100), operating=True
        )
        GrantApplication.objects.filter(pk=app.pk).update(state="discontinued")

        figures = survival_and_jobs(GrantApplication.objects.filter(pk=app.pk))

        assert (figures["survived_12m"], figures["closed_by_12m"]) == (0, 1)


def test_a_body_larger_than_five_photos_is_refused_before_it_is_read(client, api, world, settings):
    app = world.application(follow_up=True, state_facts__delivered_on=days(-100))
    three = app.visits.get(months=3)
    too_much = str(500 * 1024 * 1024)

    page = verified_login(client, world.officer).post(
        reverse("visit-form", args=[three.pk]), {"visited_on": TODAY.isoformat()}, CONTENT_LENGTH=too_much
    )
    answer = api(world.officer).post(
        f"/api/v1/visits/{three.pk}/record/", {"visited_on": TODAY.isoformat()}, CONTENT_LENGTH=too_much
    )

    assert (page.status_code, answer.status_code) == (413, 413)
    three.refresh_from_db()
    assert three.visited_on is None
