"""Race safety on PostgreSQL: simultaneous approvals never over-commit a budget, and a
stale or concurrent transition is refused with a clear conflict."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from applicants import roles
from grants.models import Commitment, GrantApplication

from .conftest import run_at_once
from .factories import ApplicantFactory, ApplicationFactory, staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def approve_via_api(user, pk):
    def call():
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            f"/api/v1/applications/{pk}/transitions/approve/", {"comment": ""}, format="json"
        )
        return response.status_code, response.json()

    return call


def test_two_managers_approving_at_once_never_exceed_the_budget(world):
    first = world.application(ready=True)
    second = world.application(ready=True, applicant=ApplicantFactory(centre=world.centre))
    # 1,100.00 each; 1,500.00 left: room for one of them only.
    world.programme.budget = Decimal("1500.00")
    world.programme.save()
    other_manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="manager_b")

    results = run_at_once(
        [approve_via_api(world.manager, first.pk), approve_via_api(other_manager, second.pk)]
    )

    codes = sorted(code for code, _ in results)
    assert codes == [200, 400]
    refused = next(body for code, body in results if code == 400)
    assert "budget is exhausted" in refused["detail"]
    assert Commitment.objects.filter(status="active").count() == 1
    assert world.programme.committed_amount() == Decimal("1100.00")
    assert sorted(GrantApplication.objects.values_list("state", flat=True)) == [
        "approved",
        "business_training",
    ]


def test_the_same_approval_twice_at_once_commits_once(world):
    app = world.application(ready=True)
    other_manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="manager_b")

    results = run_at_once([approve_via_api(world.manager, app.pk), approve_via_api(other_manager, app.pk)])

    assert sorted(code for code, _ in results) == [200, 409]
    assert Commitment.objects.filter(application=app).count() == 1


def test_many_approvals_against_a_tight_budget(world):
    apps = [world.application(ready=True, applicant=ApplicantFactory(centre=world.centre)) for _ in range(6)]
    world.programme.budget = Decimal("3300.00")  # exactly three grants of 1,100.00
    world.programme.save()
    managers = [staff(roles.PROGRAMME_MANAGER, world.centre, username=f"m{i}") for i in range(6)]

    results = run_at_once([approve_via_api(m, a.pk) for m, a in zip(managers, apps, strict=True)])

    assert sorted(code for code, _ in results) == [200, 200, 200, 400, 400, 400]
    assert world.programme.committed_amount() == Decimal("3300.00")
    assert world.programme.remaining_budget() == Decimal("0.00")


def test_a_stale_update_is_refused_by_the_state_check(world):
    """ConcurrentTransitionMixin: saving an object whose state changed meanwhile fails."""
    from django_fsm import ConcurrentTransition

    app = ApplicationFactory(applicant=world.person, programme=world.programme)
    stale = GrantApplication.objects.get(pk=app.pk)
    GrantApplication.objects.filter(pk=app.pk).update(state="withdrawn")
    stale.business_name = "Late edit"
    with pytest.raises(ConcurrentTransition):
        stale.save()
    app.refresh_from_db()
    assert app.business_name != "Late edit"
