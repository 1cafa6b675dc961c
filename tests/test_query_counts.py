"""Lists are filtered in the database: the number of queries a list takes does not grow
with the rows it shows nor with the centres the user works for.

Every list is read by four users of the same role: one centre with 5 rows, one centre
with 50 rows, twenty centres with 5 rows in all, twenty centres with 50 rows in all.
The four counts must be the same."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from applicants import roles
from audit import trail
from bench.measure import TRANSACTION_CONTROL

from .conftest import verified_login
from .factories import (
    ApplicantFactory,
    ApplicationFactory,
    CentreFactory,
    CountryFactory,
    DeliveryFactory,
    DeliveryLineFactory,
    DocumentFactory,
    MonitoringVisitFactory,
    ProgrammeFactory,
    TrainingCohortFactory,
    staff,
)
from .module_world import module_world, use_module_media

pytestmark = pytest.mark.django_db

User = get_user_model()
ROWS = {"small": 5, "large": 50}
READERS = [("one", "small"), ("one", "large"), ("twenty", "small"), ("twenty", "large")]


class Scale:
    """21 centres: `small` holds 5 rows, `large` 50, the other 19 none. A user of "one"
    centre works for small or large; a user of "twenty" for it and the 19 empty ones."""

    def __init__(self):
        country = CountryFactory(code="RS", name="Serbia")
        self.programme = ProgrammeFactory(country=country)
        centres = {size: CentreFactory(country=country, name=f"Centre {size}") for size in ROWS}
        empty = [CentreFactory(country=country, name=f"Centre {i:02d}") for i in range(19)]
        self.users = {}
        for role in (roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER):
            for size, centre in centres.items():
                self.users[(role, "one", size)] = staff(role, centre, username=f"{role}-one-{size}")
                self.users[(role, "twenty", size)] = staff(
                    role, centre, *empty, username=f"{role}-twenty-{size}"
                )
        self.busy = {}  # per size: one application with that many events and documents
        for size, centre in centres.items():
            author = self.users[(roles.FIELD_OFFICER, "one", size)]
            for _ in range(ROWS[size]):
                application = ApplicationFactory(
                    applicant=ApplicantFactory(centre=centre),
                    programme=self.programme,
                    items=[("Sewing machine", 1, "600.00"), ("Table", 2, "40.00")],
                )
                DocumentFactory(application=application)
                trail.record(action="create", actor=author, application=application, to_state="draft")
                TrainingCohortFactory(programme=self.programme, centre=centre, sessions=2)
            busy = self.busy[size] = application
            for i in range(ROWS[size] - 1):
                DocumentFactory(application=busy)
                trail.record(action="note", actor=author, application=busy, comment=f"note {i}")
        self.pages = Histories()


class Histories:
    """For the application page, in a country of their own (the lists above do not see
    it): grants in follow-up with a short and a long history, each of them with items,
    documents (sensitive ones too), deliveries, visits and audit events, read by the
    assigned officer, a colleague, a manager and the applicant."""

    LENGTHS = {"short": 2, "long": 12}

    def __init__(self):
        country = CountryFactory(code="XK", name="Kosovo")
        centre = CentreFactory(country=country, name="Centre Prizren")
        programme = ProgrammeFactory(country=country)
        self.users = {
            "officer": staff(roles.FIELD_OFFICER, centre, username="page-officer"),
            "colleague": staff(roles.FIELD_OFFICER, centre, username="page-colleague"),
            "manager": staff(roles.PROGRAMME_MANAGER, centre, username="page-manager"),
        }
        self.applications = {}
        self.applicants = {}
        for length, n in self.LENGTHS.items():
            applicant = ApplicantFactory(centre=centre, with_user=True)
            application = ApplicationFactory(
                applicant=applicant,
                programme=programme,
                assigned_officer=self.users["officer"],
                follow_up=True,
                items=[(f"Machine {i}", 2, "150.00") for i in range(n)],
            )
            items = list(application.items.all())
            for i in range(n):
                # A second, partial delivery of each item beside the full one.
                DeliveryLineFactory(delivery=DeliveryFactory(application=application), item=items[i])
                MonitoringVisitFactory(application=application, months=24 + i)
                for kind in ("photo", "release_certificate"):
                    DocumentFactory(application=application, kind=kind)
                trail.record(
                    action="note", actor=self.users["officer"], application=application, comment=f"note {i}"
                )
            self.applications[length] = application
            self.applicants[length] = applicant.user
        self.ready = ApplicationFactory(
            applicant=ApplicantFactory(centre=centre), programme=programme, ready=True
        )


@pytest.fixture(scope="module")
def scale_media(tmp_path_factory):
    return tmp_path_factory.mktemp("query-count-media")


@pytest.fixture(scope="module")
def scale(django_db_setup, django_db_blocker, scale_media):
    with module_world(django_db_blocker, scale_media, Scale) as world:
        yield world


@pytest.fixture(autouse=True)
def _module_storage(_isolated_services, settings, scale_media):
    use_module_media(settings, scale_media)


def api_queries(user, url):
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries), response


def web_queries(user, url):
    client = verified_login(Client(), User.objects.get(pk=user.pk))
    client.get(url)  # the first request of a session writes it; count a later one
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries), response


def counts(scale, role, read, url_for):
    found = {}
    for reach, size in READERS:
        found[(reach, size)], _response = read(scale.users[(role, reach, size)], url_for(size))
    return found


def assert_flat(found):
    assert len(set(found.values())) == 1, f"queries grow: {found}"


OFFICER, MANAGER = roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER


def test_the_applications_api_list(scale):
    found = counts(scale, OFFICER, api_queries, lambda size: "/api/v1/applications/")
    assert_flat(found)
    assert found[("one", "large")] <= 10
    _n, response = api_queries(scale.users[(OFFICER, "twenty", "large")], "/api/v1/applications/")
    assert response.json()["count"] == 50


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applications/?state=draft&q=Tailoring",
        "/api/v1/applicants/",
        "/api/v1/cohorts/",
        "/api/v1/programmes/",
        "/api/v1/applicants/duplicates/",
        "/api/v1/audit-events/",
    ],
)
def test_api_lists(scale, url):
    assert_flat(counts(scale, OFFICER, api_queries, lambda size: url))


@pytest.mark.parametrize("tail", ["history", "documents"])
def test_an_applications_history_and_documents(scale, tail):
    found = counts(
        scale, OFFICER, api_queries, lambda size: f"/api/v1/applications/{scale.busy[size].pk}/{tail}/"
    )
    assert_flat(found)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (OFFICER, "/applications/"),
        (OFFICER, "/applicants/"),
        (OFFICER, "/cohorts/"),
        (MANAGER, "/approvals/"),
        (MANAGER, "/finance/"),
        (MANAGER, "/finance/commitments/"),
    ],
)
def test_web_lists(scale, role, url):
    assert_flat(counts(scale, role, web_queries, lambda size: url))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/grants/grantapplication/",
        "/admin/applicants/integrationcentre/",
        "/admin/applicants/applicant/",
        "/admin/grants/auditevent/",
    ],
)
def test_admin_lists(scale, url):
    User.objects.filter(username__startswith=MANAGER).update(is_staff=True)
    assert_flat(counts(scale, MANAGER, web_queries, lambda size: url))


def page_queries(user, url):
    """The queries of a page as `make bench` counts them: without the transaction
    control around the request (ATOMIC_REQUESTS: here a savepoint and its release)."""
    client = verified_login(Client(), User.objects.get(pk=user.pk))
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    sql = [q["sql"] for q in queries.captured_queries]
    return [s for s in sql if not s.upper().startswith(TRANSACTION_CONTROL)], response


@pytest.mark.parametrize("who", ["officer", "colleague", "manager", "applicant"])
def test_the_application_page(scale, who):
    """At most 15 queries (issue 9's target), however long the application's history."""
    pages = scale.pages
    found = {}
    for length, application in pages.applications.items():
        user = pages.applicants[length] if who == "applicant" else pages.users[who]
        sql, response = page_queries(user, reverse("application-detail", args=[application.pk]))
        found[length] = len(sql)
        body = response.content.decode()
        assert application.business_name in body
        # The items, and for staff the deliveries' lines too.
        assert body.count("Machine ") >= (1 if who == "applicant" else 2) * pages.LENGTHS[length]
    assert_flat(found)
    assert found["long"] <= 15, found


def test_the_approval_rules_reuse_what_the_page_reads(scale):
    """A manager's page of an application ready for approval: the approve step's rules
    score the enrolment and the assessment the page shows, without reading them again."""
    application = scale.pages.ready
    sql, response = page_queries(
        scale.pages.users["manager"], reverse("application-detail", args=[application.pk])
    )
    assert b'value="approve"' in response.content
    assert sum('FROM "assessments_enrolment"' in s for s in sql) == 1
    current = [s for s in sql if 'FROM "assessments_assessment"' in s and '"is_current"' in s]
    assert len(current) == 1
