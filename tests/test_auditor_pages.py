"""The auditor's pages: the audit trail in the browser (the audit API's query and
filters, paginated; without personal data for the auditor) and the programmes by their
public labels, linked in the auditor's navigation. Role by role, as docs/permissions.md
says: officers and managers read the trail with names, finance and applicants do not
read it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit import trail
from grants.models import Programme

from .conftest import verified_login

pytestmark = pytest.mark.django_db
URL = reverse("audit-trail")
TODAY = timezone.localdate()


@pytest.fixture
def events(world):
    """The applicant edits their draft, an officer returns it with a comment naming them."""
    app = world.application(business_name="Marko's bakery")
    trail.record(action="edit", actor=world.applicant, application=app, comment="Added the oven.")
    trail.record(
        action="return_for_changes",
        actor=world.officer,
        application=app,
        from_state="submitted",
        to_state="draft",
        comment="Marko should add a supplier quote.",
    )
    return app


def page_for(client, user, query=""):
    return verified_login(client, user).get(URL + query)


class TestWhoReadsIt:
    def test_the_auditor_reads_it_without_personal_data(self, client, world, events):
        response = page_for(client, world.auditor)

        assert response.status_code == 200
        body = response.content.decode()
        assert "Returned for changes" in body and "Edited" in body
        assert "officer" in body  # staff by username
        assert "the applicant" in body
        for personal in ("Marko", "Demić", "oven", "supplier quote", world.applicant.username):
            assert personal not in body
        assert f"#{events.pk}" in body
        assert reverse("application-detail", args=[events.pk]) not in body  # 403 for them anyway

    @pytest.mark.parametrize("role", ["officer", "manager"])
    def test_officers_and_managers_read_it_with_names_and_comments(self, client, world, events, role):
        body = page_for(client, getattr(world, role)).content.decode()

        assert "Marko Demić" in body
        assert "Marko should add a supplier quote." in body
        assert reverse("application-detail", args=[events.pk]) in body

    @pytest.mark.parametrize("role", ["finance", "applicant"])
    def test_finance_and_applicants_do_not_read_it(self, client, world, events, role):
        user = getattr(world, role)
        client.force_login(user) if role == "applicant" else verified_login(client, user)

        assert client.get(URL).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(URL)

        assert response.status_code == 302
        assert reverse("login") in response.url

    def test_only_the_centres_of_the_reader(self, client, world):
        other = world.application(applicant=world.person2, programme=world.other_programme)
        trail.record(action="edit", actor=world.applicant2, application=other)

        body = page_for(client, world.officer).content.decode()

        assert f"#{other.pk}" not in body

    def test_the_page_and_the_api_give_the_auditor_the_same_rows(self, client, api, world, events):
        page_rows = page_for(client, world.auditor).context["rows"]
        api_rows = api(world.auditor).get("/api/v1/audit-events/").json()["results"]

        assert [(r["application"], r["actor"]) for r in page_rows] == [
            (r["application"], r["actor"]) for r in api_rows
        ]


class TestFilters:
    def test_by_action_actor_application_and_period(self, client, world, events):
        other = world.application()
        trail.record(action="edit", actor=world.officer, application=other, comment="")

        def rows(query):
            found = page_for(client, world.auditor, query).context["rows"]
            return [(r["application"], str(r["action"])) for r in found]

        assert rows("?action=return_for_changes") == [(events.pk, "Returned for changes")]
        assert rows("?actor=officer") == [(other.pk, "Edited"), (events.pk, "Returned for changes")]
        assert rows(f"?application={other.pk}") == [(other.pk, "Edited")]
        yesterday, tomorrow = TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=1)
        assert len(rows(f"?date_from={TODAY}&date_to={TODAY}")) == len(rows(""))
        assert rows(f"?date_from={tomorrow}") == []
        assert rows(f"?date_to={yesterday}") == []

    def test_an_applicants_username_finds_nothing(self, client, world, events):
        """Only staff usernames are kept in the chain: the filter cannot tell whether an
        applicant's account exists."""
        assert page_for(client, world.auditor, f"?actor={world.applicant.username}").context["rows"] == []

    def test_a_period_ending_before_it_starts_is_refused(self, client, world, events):
        response = page_for(
            client, world.auditor, f"?date_from={TODAY}&date_to={TODAY - datetime.timedelta(days=3)}"
        )

        assert response.status_code == 400
        assert "The end of the period comes before its start." in response.content.decode()
        assert response.context["rows"] == []

    def test_the_api_takes_the_same_filters(self, api, world, events):
        client = api(world.auditor)

        assert len(client.get("/api/v1/audit-events/?actor=officer").json()["results"]) == 1
        assert len(client.get(f"/api/v1/audit-events/?from={TODAY}&to={TODAY}").json()["results"]) == 2
        tomorrow = TODAY + datetime.timedelta(days=1)
        assert client.get(f"/api/v1/audit-events/?from={tomorrow}").json()["results"] == []
        refused = client.get("/api/v1/audit-events/?from=12/06/2026")
        assert refused.status_code == 400
        assert "YYYY-MM-DD" in refused.json()["detail"]


class TestPages:
    def test_fifty_a_page_with_a_next_link_and_no_count(self, client, world, django_assert_max_num_queries):
        app = world.application()
        for n in range(55):
            trail.record(action="edit", actor=world.officer, application=app, comment=f"change {n}")
        auditor = verified_login(client, world.auditor)

        with django_assert_max_num_queries(12) as queries:
            first = auditor.get(URL)
        assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
        assert len(first.context["rows"]) == 50
        assert 'rel="next"' in first.content.decode()
        second = auditor.get(URL + "?page=2")
        assert len(second.context["rows"]) == 5
        assert 'rel="next"' not in second.content.decode()
        assert 'rel="prev"' in second.content.decode()

    def test_the_query_count_does_not_grow_with_the_rows(
        self, client, world, events, django_assert_max_num_queries
    ):
        for n in range(30):
            app = world.application()
            trail.record(action="edit", actor=world.applicant, application=app, comment=f"n{n}")
        for user in (world.auditor, world.manager):
            viewer = verified_login(client, user)
            with django_assert_max_num_queries(12):
                assert viewer.get(URL).status_code == 200


class TestProgrammesAndNavigation:
    def test_the_auditor_reads_the_programmes_by_their_public_labels(self, client, world):
        Programme.objects.filter(pk=world.programme.pk).update(
            name="Grants for people after prison", public_name="Programme RS-1"
        )

        response = verified_login(client, world.auditor).get(reverse("programme-list"))

        assert response.status_code == 200
        body = response.content.decode()
        assert "Programme RS-1" in body
        assert "prison" not in body
        assert "Person released from prison" not in body  # whom it is for: left out
        assert "Edit" not in body

    def test_the_auditor_has_both_pages_in_the_navigation(self, client, world):
        body = verified_login(client, world.auditor).get(reverse("dashboard")).content.decode()

        assert f'href="{URL}"' in body
        assert f'href="{reverse("programme-list")}"' in body

    def test_officers_are_not_sent_there_from_the_navigation(self, client, world):
        body = verified_login(client, world.officer).get(reverse("inbox")).content.decode()

        assert f'href="{URL}"' not in body
