"""A possible duplicate still to decide holds the approval up: the rule
`no_open_duplicate` refuses it with its sentence, the application page and the approvals
queue (page and API) show the flag, and deciding the flag lets the grant through."""

import pytest
from django.urls import reverse

from applicants.models import DuplicateFlag
from applicants.services import decide_duplicate
from core.errors import RuleNotMet
from grants import workflow
from grants.models import AuditEvent
from grants.services import take_transition

from .conftest import verified_login
from .factories import ApplicantFactory, DuplicateFlagFactory

pytestmark = pytest.mark.django_db
SENTENCE = str(workflow.NO_OPEN_DUPLICATE.message)


@pytest.fixture
def flagged(world):
    """A grant ready for approval whose applicant was flagged at registration as possibly
    someone registered before."""
    application = world.application(ready=True, business_name="Flagged bakery")
    earlier = ApplicantFactory(centre=world.centre)
    flag = DuplicateFlagFactory(applicant=world.person, other=earlier)
    return application, flag


def test_it_refuses_approval_with_an_open_flag(world, flagged):
    application, _flag = flagged

    with pytest.raises(RuleNotMet) as refused:
        take_transition(application=application, name="approve", by=world.manager)

    assert [code for code, _ in refused.value.rules] == ["no_open_duplicate"]
    assert SENTENCE in str(refused.value)
    application.refresh_from_db()
    assert application.state == "business_training"
    assert not AuditEvent.objects.filter(action="approve").exists()


def test_the_flag_holds_up_the_other_side_too(world):
    """The earlier registration may be the duplicate's: its grant waits as well."""
    application = world.application(ready=True)
    DuplicateFlagFactory(applicant=ApplicantFactory(centre=world.centre), other=world.person)

    with pytest.raises(RuleNotMet):
        take_transition(application=application, name="approve", by=world.manager)


@pytest.mark.parametrize("decision", ["different_person", "same_person"])
def test_deciding_the_flag_lets_it_through(world, flagged, decision):
    application, flag = flagged
    decide_duplicate(flag=flag, decision=decision, by=world.officer, comment="checked the ID")

    take_transition(application=application, name="approve", by=world.manager)

    application.refresh_from_db()
    assert application.state == "approved"
    assert AuditEvent.objects.filter(action="duplicate_decided").exists()


def test_the_transitions_list_gives_the_sentence(api, world, flagged):
    application, _flag = flagged

    rows = api(world.manager).get(f"/api/v1/applications/{application.pk}/transitions/").json()

    approve = next(row for row in rows if row["name"] == "approve")
    assert (approve["allowed"], approve["reason"]) == (False, SENTENCE)


def test_a_refused_approval_over_the_api_names_the_rule(api, world, flagged):
    application, _flag = flagged

    response = api(world.manager).post(f"/api/v1/applications/{application.pk}/transitions/approve/", {})

    assert response.status_code == 400
    assert SENTENCE in response.content.decode()


class TestShown:
    def test_the_queue_shows_the_flag_and_no_approve_button(self, client, world, flagged):
        application, _flag = flagged
        world.application(
            ready=True, business_name="Clear workshop", applicant=ApplicantFactory(centre=world.centre)
        )

        response = verified_login(client, world.manager).get(reverse("approvals"))

        rows = {a.business_name: a.open_duplicate for a in response.context["page"]}
        assert rows == {"Flagged bakery": True, "Clear workshop": False}
        body = response.content.decode()
        assert body.count("Possible duplicate to decide") == 1
        assert body.count('value="approve"') == 1

    def test_a_decided_flag_is_not_shown(self, client, world, flagged):
        _application, flag = flagged
        DuplicateFlag.objects.filter(pk=flag.pk).update(decision="different_person")

        body = verified_login(client, world.manager).get(reverse("approvals")).content.decode()

        assert "Possible duplicate to decide" not in body
        assert 'value="approve"' in body

    def test_the_queue_api_gives_the_flag(self, api, world, flagged):
        application, _flag = flagged

        response = api(world.manager).get("/api/v1/approvals/")

        assert response.status_code == 200
        (row,) = response.json()["results"]
        assert (row["id"], row["open_duplicate"], row["own_assessment"]) == (application.pk, True, False)

    @pytest.mark.parametrize("role", ["officer", "finance", "auditor", "applicant"])
    def test_the_queue_api_is_the_managers(self, api, world, role):
        assert api(getattr(world, role)).get("/api/v1/approvals/").status_code == 403

    def test_the_application_page_shows_the_flag(self, client, world, flagged):
        application, _flag = flagged

        for user in (world.officer, world.manager):
            body = verified_login(client, user).get(reverse("application-detail", args=[application.pk]))
            assert "Possible duplicate to decide" in body.content.decode()

    def test_the_applicant_does_not_see_it(self, client, world, flagged):
        application, _flag = flagged

        client.force_login(world.applicant)
        body = client.get(reverse("application-detail", args=[application.pk])).content.decode()

        assert "Possible duplicate" not in body


def test_the_queue_reads_in_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    manager = verified_login(client, world.manager)
    for n in range(12):
        person = ApplicantFactory(centre=world.centre)
        world.application(ready=True, applicant=person)
        if n % 3 == 0:
            DuplicateFlagFactory(applicant=person, other=ApplicantFactory(centre=world.centre))

    with django_assert_max_num_queries(16):
        assert manager.get(reverse("approvals")).status_code == 200
    with django_assert_max_num_queries(13):
        assert len(manager.get("/api/v1/approvals/").json()["results"]) == 12
