"""The web form of a session's participants counted without names (issue 21.3): by sex
and age band as the API records them, through the same service, checked before anything
is saved; field officers of the centre only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import SessionHeadcount
from grants.models import AuditEvent

from .conftest import anonymous_training_cohort, verified_login

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def cohort(world):
    return anonymous_training_cohort(
        world,
        title="Bookkeeping for small businesses",
        session_dates=[TODAY - datetime.timedelta(days=7), TODAY + datetime.timedelta(days=7)],
    )


def counted(session):
    return {(h.sex, h.age_band): h.count for h in SessionHeadcount.objects.filter(session=session)}


def post(client, cohort, **fields):
    return client.post(reverse("cohort-headcount", args=[cohort.pk]), fields)


class TestTheForm:
    def test_it_shows_a_grid_of_sex_by_the_programmes_age_bands(self, world, client, cohort):
        world.programme.age_bands = [18, 30]
        world.programme.save(update_fields=["age_bands"])
        verified_login(client, world.officer)
        page = client.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
        for name in (
            "count_female_under18",
            "count_male_18_29",
            "count_other_30plus",
            "count_unknown_unknown",
        ):
            assert f'name="{name}"' in page
        assert 'name="count_female_15_24"' not in page

    def test_it_records_by_sex_and_age_band_with_an_audit(self, world, client, cohort):
        session = cohort.sessions.order_by("date").first()
        verified_login(client, world.officer)
        response = post(
            client,
            cohort,
            session=session.pk,
            count_female_25_34="6",
            count_male_15_24="3",
            count_unknown_unknown="1",
            total="10",
        )
        assert response.status_code == 302
        assert counted(session) == {("female", "25-34"): 6, ("male", "15-24"): 3, ("", ""): 1}
        event = AuditEvent.objects.filter(action="headcount_recorded").latest("pk")
        assert event.actor == world.officer and event.data["after"] == {"total": 10}

    def test_a_total_that_does_not_add_up_saves_nothing(self, world, client, cohort):
        session = cohort.sessions.order_by("date").first()
        services.record_headcount(by=world.officer, session=session, counts={("female", ""): 4})
        verified_login(client, world.officer)
        response = post(client, cohort, session=session.pk, count_female_25_34="6", total="7")
        assert response.status_code == 400
        page = response.content.decode()
        assert "The counts add up to 6, not to the 7 participants in all." in page
        assert 'href="#id_total"' in page  # the error summary links to the field
        assert counted(session) == {("female", ""): 4}

    @pytest.mark.parametrize("value", ["-1", "1001", "two"])
    def test_a_bad_count_is_refused_and_nothing_changes(self, world, client, cohort, value):
        session = cohort.sessions.order_by("date").first()
        services.record_headcount(by=world.officer, session=session, counts={("male", ""): 2})
        verified_login(client, world.officer)
        response = post(client, cohort, session=session.pk, count_female_25_34="3", count_male_50plus=value)
        assert response.status_code == 400
        assert 'href="#id_count_male_50plus"' in response.content.decode()
        assert counted(session) == {("male", ""): 2}

    def test_a_session_yet_to_come_cannot_be_counted(self, world, client, cohort):
        later = cohort.sessions.order_by("date").last()
        verified_login(client, world.officer)
        assert post(client, cohort, session=later.pk, count_female_25_34="3").status_code == 400
        assert not SessionHeadcount.objects.exists()

    def test_the_service_checks_the_total_for_the_api_too(self, world, api, cohort):
        session = cohort.sessions.order_by("date").first()
        url = f"/api/v1/cohorts/{cohort.pk}/headcounts/"
        body = {
            "session": session.pk,
            "counts": [{"sex": "female", "age_band": "25-34", "count": 5}],
            "total": 6,
        }
        response = api(world.officer).post(url, body, format="json")
        assert response.status_code == 400 and "total" in response.json()
        assert not SessionHeadcount.objects.exists()
        body["total"] = 5
        assert api(world.officer).post(url, body, format="json").status_code == 201


class TestWhoMayCount:
    @pytest.mark.parametrize(
        ("role", "status"),
        [
            ("officer", 302),
            ("colleague", 302),
            ("officer2", 404),
            ("manager", 403),
            ("finance", 403),
            ("auditor", 403),
            ("applicant", 403),
        ],
    )
    def test_field_officers_of_the_centre_only(self, world, client, cohort, role, status):
        session = cohort.sessions.order_by("date").first()
        verified_login(client, getattr(world, role))
        response = post(client, cohort, session=session.pk, count_female_25_34="3")
        assert response.status_code == status
        assert counted(session) == ({("female", "25-34"): 3} if status == 302 else {})

    def test_not_where_the_programme_counts_only_registered_people(self, world, client, cohort):
        world.programme.anonymous_training = False
        world.programme.save(update_fields=["anonymous_training"])
        session = cohort.sessions.order_by("date").first()
        verified_login(client, world.officer)
        response = post(client, cohort, session=session.pk, count_female_25_34="3")
        assert response.status_code == 409
        assert not SessionHeadcount.objects.exists()

    def test_signed_out_is_sent_to_sign_in(self, client, cohort):
        response = post(client, cohort, session=1)
        assert response.status_code == 302 and "login" in response["Location"]
