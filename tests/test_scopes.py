"""Scopes by programme and donor, and the M&E officer (issue 21, part 4): a donor's
auditor reads only that donor's programmes; a manager narrowed to a programme sees only
its applications; the M&E officer reads visits and figures, takes no step and sees no
sensitive fact."""

import csv
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from applicants import roles
from audit import trail
from audit.models import AuditEvent
from core.errors import NotAllowed, ServiceError
from grants.models import Programme, RegionalProgramme
from grants.services import set_programme_scope

from .conftest import verified_login
from .factories import (
    ApplicantSensitiveFactory,
    ApplicationFactory,
    ProgrammeFactory,
    staff,
)

pytestmark = pytest.mark.django_db


class Donors:
    def __init__(self, world):
        self.world = world
        self.eu = ProgrammeFactory(country=world.serbia, donor="European Union", name="EU returnees")
        self.german = ProgrammeFactory(country=world.serbia, donor="GIZ", name="German regional")
        # five of each: the auditor reads no figure of fewer than five people
        self.eu_grants = [
            ApplicationFactory(applicant=world.person, programme=self.eu, delivered=True),
            *ApplicationFactory.create_batch(
                4, programme=self.eu, applicant__centre=world.centre, follow_up=True
            ),
        ]
        self.german_grants = ApplicationFactory.create_batch(
            5, programme=self.german, applicant__centre=world.centre, delivered=True
        )
        for application in self.eu_grants + self.german_grants:
            trail.record(action="edit", actor=world.officer, application=application)
        self.auditor = staff(roles.AUDITOR, world.centre, username="eu-auditor")
        set_programme_scope(user=self.auditor, donors=["European Union"], by=None)


@pytest.fixture
def donors(world):
    return Donors(world)


def client_for(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def test_a_donor_scoped_auditor_reads_only_that_donors_programmes(donors, world):
    scoped, unscoped = client_for(donors.auditor), client_for(world.auditor)

    impact = scoped.get(reverse("api:report-impact")).json()
    assert impact["enterprises_supported"] == 5
    assert unscoped.get(reverse("api:report-impact")).json()["enterprises_supported"] == 10

    budget = scoped.get(reverse("api:report-budget")).json()["results"]
    assert {row["programme"] for row in budget} == {donors.eu.pk}
    assert donors.german.pk in {
        row["programme"] for row in unscoped.get(reverse("api:report-budget")).json()["results"]
    }

    export = scoped.get(reverse("api:report-budget-export", kwargs={"fmt": "csv"}))
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["id"] for row in rows if row["level"] == "programme"} == {str(donors.eu.pk)}
    assert {row["donor"] for row in rows if row["donor"]} == {"European Union"}

    programmes = scoped.get(reverse("api:programmes")).json()
    listed = {p["id"] for p in (programmes["results"] if isinstance(programmes, dict) else programmes)}
    assert listed == {donors.eu.pk}

    trail_rows = scoped.get(reverse("api:audit-events")).json()["results"]
    seen = {row["application"] for row in trail_rows}
    assert seen == {a.pk for a in donors.eu_grants}
    # the page: the same trail, and the dashboard's programme choice
    page = Client()
    verified_login(page, donors.auditor)
    assert page.get(reverse("audit-trail")).status_code == 200
    dashboard = page.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert donors.german.public_label not in dashboard.content.decode()


def test_a_manager_narrowed_to_a_programme_sees_only_its_applications(donors, world):
    set_programme_scope(user=world.manager, programmes=[donors.german.pk], by=None)
    client = client_for(world.manager)
    trail_rows = client.get(reverse("api:audit-events")).json()["results"]
    assert {row["application"] for row in trail_rows} == {a.pk for a in donors.german_grants}
    eu = donors.eu_grants[0]
    assert client.get(reverse("api:application", kwargs={"pk": eu.pk})).status_code == 404
    page = Client()
    verified_login(page, world.manager)
    assert page.get(reverse("application-detail", kwargs={"pk": eu.pk})).status_code == 404
    assert (
        page.get(reverse("application-detail", kwargs={"pk": donors.german_grants[0].pk})).status_code == 200
    )
    # cleared: every programme of the centres again
    set_programme_scope(user=world.manager, by=None)
    assert client_for(world.manager).get(reverse("api:application", kwargs={"pk": eu.pk})).status_code == 200


def test_scoping_is_audited_and_refuses_bad_input(donors, world):
    events = AuditEvent.objects.filter(action="programme_scope_changed")
    assert events.count() == 1
    assert events.get().data["after"] == [[None, "European Union", None]]
    with pytest.raises(ServiceError):
        set_programme_scope(user=world.manager, donors=["Nobody funds this"], by=None)
    with pytest.raises(ServiceError):
        set_programme_scope(user=world.manager, programmes=[987654], by=None)
    with pytest.raises(ServiceError, match="regional"):
        set_programme_scope(user=world.manager, regional_programmes=[987654], by=None)
    with pytest.raises(ServiceError):
        set_programme_scope(user=world.officer, programmes=[donors.eu.pk], by=None)
    with pytest.raises(NotAllowed):
        set_programme_scope(user=world.auditor, programmes=[donors.eu.pk], by=world.manager)
    assert events.count() == 1
    out = io.StringIO()
    call_command("scope_staff", world.auditor.username, "--programme", str(donors.german.pk), stdout=out)
    assert str(donors.german.pk) in out.getvalue()
    assert events.count() == 2


def test_a_regional_programme_scope_reads_its_country_parts_and_not_the_donors_others(donors, world):
    """The German donor funds a regional programme (its Serbian part here, its Kosovo part
    at Prizren) and a programme of its own: the regional auditor reads the parts only."""
    regional = RegionalProgramme.objects.create(donor="GIZ", name="Western Balkans regional")
    Programme.objects.filter(pk=donors.german.pk).update(regional_programme=regional)
    other = ProgrammeFactory(country=world.serbia, donor="GIZ", name="GIZ national")
    ApplicationFactory.create_batch(5, programme=other, applicant__centre=world.centre, delivered=True)
    auditor = staff(roles.AUDITOR, world.centre, username="regional-auditor")
    set_programme_scope(user=auditor, regional_programmes=[regional.pk], by=None)

    client = client_for(auditor)
    budget = client.get(reverse("api:report-budget")).json()["results"]
    assert {row["programme"] for row in budget} == {donors.german.pk}
    trail_rows = client.get(reverse("api:audit-events")).json()["results"]
    assert {row["application"] for row in trail_rows} == {a.pk for a in donors.german_grants}
    assert client.get(reverse("api:report-impact")).json()["enterprises_supported"] == 5
    assert AuditEvent.objects.filter(action="programme_scope_changed").latest("id").data["after"] == [
        [None, "", regional.pk]
    ]
    out = io.StringIO()
    call_command("scope_staff", auditor.username, "--regional-programme", str(regional.pk), stdout=out)
    assert f"regional {regional.pk}" in out.getvalue()


def test_scoped_lists_cost_no_extra_query(donors, world, django_assert_max_num_queries):
    client = client_for(donors.auditor)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("api:report-budget")).status_code == 200


# ---- the M&E officer ---------------------------------------------------------------


@pytest.fixture
def mne(world, donors):
    ApplicantSensitiveFactory(applicant=world.person)
    return staff(roles.MNE_OFFICER, world.centre, world.other_centre, username="mne")


@pytest.mark.parametrize(
    ("name", "method", "kwargs", "expected"),
    [
        ("api:report-impact", "GET", None, 200),
        ("api:report-budget", "GET", None, 200),
        ("api:applications", "GET", None, 200),
        ("api:application", "GET", "grant", 200),
        ("api:application-visits", "GET", "grant", 200),
        ("api:application-history", "GET", "grant", 200),
        ("api:application-ledger", "GET", "grant", 403),
        ("api:applicants", "GET", None, 403),
        ("api:applicant", "GET", "person", 403),
        ("api:approvals", "GET", None, 403),
        ("api:audit-events", "GET", None, 403),
        ("api:transfers", "GET", None, 403),
        ("api:cohorts", "GET", None, 200),
    ],
)
def test_the_mne_officer_reads_visits_and_figures_only(mne, donors, world, name, method, kwargs, expected):
    grant = donors.eu_grants[1]
    pk = {"grant": grant.pk, "person": world.person.pk}.get(kwargs)
    url = reverse(name, kwargs={"pk": pk} if pk else None)
    client = client_for(mne)
    response = client.get(url) if method == "GET" else client.post(url, {}, format="json")
    assert response.status_code == expected, response.content[:300]


def test_the_mne_officer_takes_no_step_and_reads_no_name_or_sensitive_fact(mne, donors, world):
    client = client_for(mne)
    grant = donors.eu_grants[1]
    for step in ("complete", "discontinue"):
        url = reverse("api:application-transition", kwargs={"pk": grant.pk, "name": step})
        assert client.post(url, {"comment": "M&E"}, format="json").status_code == 403
    documents = reverse("api:application-documents", kwargs={"pk": grant.pk})
    assert client.get(documents).json()["count"] == 0
    body = client.get(reverse("api:application", kwargs={"pk": donors.eu_grants[0].pk})).content.decode()
    for secret in (world.person.last_name, "Sremska Mitrovica", "former_inmate", "referral_institution"):
        assert secret not in body
    page = Client()
    verified_login(page, mne)
    assert page.get(reverse("dashboard")).status_code == 200
    assert page.get(reverse("approvals")).status_code == 403
    assert page.get(reverse("applicant-list")).status_code == 403


def test_the_demos_donor_auditor_reads_the_federal_foreign_offices_programme_only(tmp_path, settings):
    from django.contrib.auth import get_user_model

    from demo import seed
    from grants.models import Programme

    settings.MEDIA_ROOT = str(tmp_path)
    assert seed.seed() is True
    users = get_user_model().objects
    funded = set(Programme.objects.filter(donor="Federal Foreign Office").values_list("pk", flat=True))
    assert funded and funded != set(Programme.objects.values_list("pk", flat=True))
    donor_rows = client_for(users.get(username="donor_auditor")).get(reverse("api:report-budget")).json()
    all_rows = client_for(users.get(username="auditor")).get(reverse("api:report-budget")).json()
    assert {row["programme"] for row in donor_rows["results"]} == funded
    assert {row["programme"] for row in all_rows["results"]} > funded
    mne = client_for(users.get(username="mne"))
    assert mne.get(reverse("api:report-impact")).status_code == 200
    assert mne.get(reverse("api:applicants")).status_code == 403
