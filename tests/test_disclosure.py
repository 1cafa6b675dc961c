"""Issue 13, role by role: finance and the auditor never read a name beside a programme,
centre or target group that reveals prison or return (public labels, names only on the
handover protocol); the duplicate check is no oracle (own centres only, counted,
audited); target groups follow the sensitive-facts rule; small groups are withheld.
The scan of every response over the demo data is tests/test_disclosure_scan.py."""

import io
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from pypdf import PdfReader

from applicants.models import DuplicateFlag
from audit import trail
from grants import services
from grants.models import AuditEvent
from reports import figures as reports

from .conftest import verified_login
from .factories import ApplicantFactory, DeliveryFactory, DeliveryLineFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

RELEASE = "Resocialisation: income after release"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The duplicate-check counters live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def prison_grant(world):
    """Marko's approved grant in a programme whose name says it all."""
    world.programme.name = RELEASE
    world.programme.save(update_fields=["name"])
    world.person.is_former_inmate = True
    world.person.save(update_fields=["is_former_inmate"])
    return world.application(approved=True, business_name="Bakery Sunrise")


# ---- public labels ------------------------------------------------------------------


class TestApplicationsApi:
    def test_finance_reads_the_grant_by_number_business_and_public_labels(self, world, api, prison_grant):
        body = api(world.finance).get(f"/api/v1/applications/{prison_grant.pk}/").json()
        assert "applicant_name" not in body
        assert body["programme_name"] == f"Programme {world.programme.pk}"
        assert body["centre_name"] == f"Centre {world.centre.pk}"
        assert body["business_name"] == "Bakery Sunrise"
        assert not {"activity", "market", "experience"} & set(body["plan"])
        listed = api(world.finance).get("/api/v1/applications/").json()["results"]
        assert [("applicant_name" in row, row["programme_name"]) for row in listed] == [
            (False, f"Programme {world.programme.pk}")
        ]

    def test_a_public_name_set_by_the_manager_is_what_finance_reads(self, world, api, prison_grant):
        world.programme.public_name = "Small business grants, Serbia"
        world.programme.save(update_fields=["public_name"])
        body = api(world.finance).get(f"/api/v1/applications/{prison_grant.pk}/").json()
        assert body["programme_name"] == "Small business grants, Serbia"

    @pytest.mark.parametrize("who", ["manager", "officer"])
    def test_roles_that_see_the_facts_read_names_and_real_labels(self, world, api, prison_grant, who):
        body = api(getattr(world, who)).get(f"/api/v1/applications/{prison_grant.pk}/").json()
        assert (body["applicant_name"], body["programme_name"]) == ("Marko Demić", RELEASE)
        assert body["centre_name"] == world.centre.name

    def test_finance_cannot_search_by_name_only_by_business(self, world, api, prison_grant):
        finance, manager = api(world.finance), api(world.manager)
        assert finance.get("/api/v1/applications/", {"q": "Demić"}).json()["count"] == 0
        assert manager.get("/api/v1/applications/", {"q": "Demić"}).json()["count"] == 1
        assert finance.get("/api/v1/applications/", {"q": "Sunrise"}).json()["count"] == 1

    def test_a_cancellations_reason_is_not_in_finances_ledger(self, world, api, prison_grant):
        services.take_transition(
            application=prison_grant, name="cancel", by=world.manager, comment="Back in prison, Marko says."
        )
        url = f"/api/v1/applications/{prison_grant.pk}/ledger/"
        finance = api(world.finance).get(url).json()["commitments"]
        assert [c["release_reason"] for c in finance] == [""]
        manager = api(world.manager).get(url).json()["commitments"]
        assert [c["release_reason"] for c in manager] == ["Back in prison, Marko says."]

    def test_finance_history_names_no_one_and_keeps_no_comment(self, world, api, prison_grant):
        trail.record(action="edit", actor=world.applicant, application=prison_grant)
        trail.record(
            action="submit",
            actor=world.officer,
            application=prison_grant,
            on_behalf_of=world.person,
            comment="Marko Demić, just released, asked me to send it.",
        )
        url = f"/api/v1/applications/{prison_grant.pk}/history/"
        rows = api(world.finance).get(url).json()["results"]
        assert [row["actor"] for row in rows[-2:]] == ["the applicant", "officer"]
        assert all("comment" not in row and "on_behalf_of" not in row for row in rows)
        assert "Marko" not in json.dumps(rows)
        manager_rows = api(world.manager).get(url).json()["results"]
        assert manager_rows[-1]["on_behalf_of"] == "Marko Demić"
        assert "just released" in manager_rows[-1]["comment"]

    def test_programmes_show_finance_the_label_and_not_whom_they_are_for(self, world, api, prison_grant):
        world.programme.target_groups = ["former_inmate"]
        world.programme.save(update_fields=["target_groups"])
        finance = {row["id"]: row for row in api(world.finance).get("/api/v1/programmes/").json()["results"]}
        mine = finance[world.programme.pk]
        assert mine["name"] == mine["public_label"] == f"Programme {world.programme.pk}"
        assert "target_groups" not in mine
        manager = {row["id"]: row for row in api(world.manager).get("/api/v1/programmes/").json()["results"]}
        assert (manager[world.programme.pk]["name"], manager[world.programme.pk]["target_groups"]) == (
            RELEASE,
            ["former_inmate"],
        )

    def test_the_budget_report_names_programmes_by_their_labels_for_finance(self, world, api, prison_grant):
        finance = api(world.finance).get("/api/v1/reports/budget/").json()["results"]
        assert RELEASE not in json.dumps(finance)
        manager = api(world.manager).get("/api/v1/reports/budget/").json()["results"]
        assert RELEASE in [row["programme_name"] for row in manager]


class TestPagesAndFiles:
    def test_finance_application_page_has_no_name_no_comment_and_public_labels(
        self, client, world, prison_grant
    ):
        trail.record(
            action="approve", actor=world.manager, application=prison_grant, comment="Marko is doing well."
        )
        verified_login(client, world.finance)
        page = client.get(reverse("application-detail", args=[prison_grant.pk])).content.decode()
        assert "Demić" not in page and "Marko is doing well." not in page
        assert RELEASE not in page and world.centre.name not in page
        assert f"Programme {world.programme.pk}" in page

    def test_the_programmes_page_shows_finance_labels_and_not_whom_they_are_for(
        self, client, world, prison_grant
    ):
        verified_login(client, world.finance)
        page = client.get(reverse("programme-list")).content.decode()
        assert RELEASE not in page and "Person released from prison" not in page
        assert f"Programme {world.programme.pk}" in page
        verified_login(client, world.manager)
        page = client.get(reverse("programme-list")).content.decode()
        assert RELEASE in page and "Person released from prison" in page

    def test_the_dashboard_filters_offer_finance_labels_only(self, client, world, prison_grant):
        verified_login(client, world.finance)
        page = client.get(reverse("dashboard")).content.decode()
        assert RELEASE not in page and world.centre.name not in page
        assert f"Centre {world.centre.pk}" in page

    @pytest.mark.parametrize("who", ["finance", "officer", "manager"])
    def test_the_handover_protocol_carries_the_public_label_whoever_prints_it(
        self, world, api, prison_grant, who
    ):
        response = api(getattr(world, who)).get(
            f"/api/v1/applications/{prison_grant.pk}/handover-protocol.pdf"
        )
        assert response.status_code == 200
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)
        assert "Marko Demić" in text  # the beneficiary signs it
        assert RELEASE not in text and f"Programme {world.programme.pk}" in text

    def test_the_ledger_export_names_programmes_and_centres_by_label_for_finance(self, world, api):
        world.programme.name = RELEASE
        world.programme.save(update_fields=["name"])
        application = world.application(approved=True)
        delivery = DeliveryFactory(application=application)
        DeliveryLineFactory(delivery=delivery, item=application.items.first())
        response = api(world.finance).get("/api/v1/reports/ledger/export.csv")
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        assert RELEASE not in text and world.centre.name not in text
        assert f"Programme {world.programme.pk}" in text and f"Centre {world.centre.pk}" in text

    def test_the_admin_shows_finance_no_programme_centre_or_application(self, client, world, prison_grant):
        world.finance.is_staff = True
        world.finance.save(update_fields=["is_staff"])
        verified_login(client, world.finance)
        for name in ("admin:grants_programme_changelist", "admin:applicants_integrationcentre_changelist"):
            assert client.get(reverse(name)).status_code == 403
        assert client.get(reverse("admin:grants_grantapplication_changelist")).status_code == 403


# ---- target groups --------------------------------------------------------------------


class TestTargetGroups:
    @pytest.fixture
    def marko(self, world):
        world.person.is_former_inmate, world.person.is_returnee = True, False
        world.person.save(update_fields=["is_former_inmate", "is_returnee"])
        world.application()  # assigned to world.officer
        return world.person

    @pytest.mark.parametrize(
        ("who", "sees"),
        [
            ("officer", True),
            ("manager", True),
            ("applicant", True),
            ("colleague", False),
            ("officer2", False),
        ],
    )
    def test_the_api_gives_them_only_to_those_who_see_the_facts(self, world, api, marko, who, sees):
        client = api(getattr(world, who))
        detail = client.get(f"/api/v1/applicants/{marko.pk}/")
        if who == "officer2":  # another centre: not found at all
            assert detail.status_code == 404
            return
        assert ("target_groups" in detail.json()) is sees
        row = next(r for r in client.get("/api/v1/applicants/").json()["results"] if r["id"] == marko.pk)
        assert ("target_groups" in row) is sees
        if sees:
            assert "former_inmate" in row["target_groups"]

    def test_the_list_asks_the_rule_without_a_query_per_row(
        self, world, api, marko, django_assert_max_num_queries
    ):
        for _ in range(10):
            ApplicantFactory(centre=world.centre, is_former_inmate=True)
        client = api(world.colleague)
        client.get("/api/v1/applicants/")
        with django_assert_max_num_queries(6):
            rows = client.get("/api/v1/applicants/").json()["results"]
        assert len(rows) == 11 and all("target_groups" not in row for row in rows)

    def test_the_new_application_page_does_not_tell_a_colleague_the_group(self, client, world, marko):
        ProgrammeFactory(country=world.serbia, target_groups=["returnee"])
        verified_login(client, world.colleague)
        page = client.get(reverse("application-new"), {"applicant": marko.pk}).content.decode()
        assert "not open to the target group" not in page
        verified_login(client, world.officer)
        page = client.get(reverse("application-new"), {"applicant": marko.pk}).content.decode()
        assert "not open to the target group" in page


# ---- duplicates -----------------------------------------------------------------------

CHECK = "/api/v1/applicants/possible-duplicates/"


@pytest.fixture
def arta_elsewhere(world):
    """Arta Demaj is registered at the other centre (Prizren), with a phone number."""
    world.person2.phone = "+38344123456"
    world.person2.save(update_fields=["phone"])
    return world.person2


def ask(client, **overrides):
    # (born another day than the Arta registered: the phone is the one match)
    body = {
        "first_name": "Arta",
        "last_name": "Demaj",
        "date_of_birth": "1985-01-01",
        "phone": "+38344123456",
    }
    return client.post(CHECK, {**body, **overrides}, format="json")


class TestDuplicateCheck:
    def test_a_match_elsewhere_is_only_a_sentence_and_the_check_is_audited(self, world, api, arta_elsewhere):
        response = ask(api(world.officer), purpose="manual_check")

        assert response.status_code == 200
        assert response.json() == {
            "possible_duplicates": [],
            "match_elsewhere": True,
            "elsewhere_message": "A possible match exists in another centre: ask your programme manager.",
        }
        event = AuditEvent.objects.get(action="duplicate_check")
        assert (event.actor, event.applicant, event.application) == (world.officer, None, None)
        assert event.data == {
            "purpose": "manual_check",
            "matches_here": 0,
            "match_elsewhere": True,
            "match_kinds": ["same_phone"],
        }
        # Never what was searched for.
        stored = json.dumps(event.data) + event.comment
        assert "Arta" not in stored and "Demaj" not in stored and "44123456" not in stored

    def test_the_purpose_defaults_to_registration_and_a_bad_one_is_refused(self, world, api, arta_elsewhere):
        assert ask(api(world.officer)).status_code == 200
        assert AuditEvent.objects.get(action="duplicate_check").data["purpose"] == "registration"
        response = ask(api(world.officer), purpose="curiosity")
        assert response.status_code == 400 and "purpose" in response.json()
        assert AuditEvent.objects.filter(action="duplicate_check").count() == 1

    def test_an_officer_of_the_centre_gets_the_person(self, world, api, arta_elsewhere):
        body = ask(api(world.officer2)).json()
        assert [row["applicant"] for row in body["possible_duplicates"]] == [arta_elsewhere.pk]
        assert body["match_elsewhere"] is False and body["elsewhere_message"] is None

    @pytest.mark.parametrize("who", ["manager", "finance", "auditor", "applicant"])
    def test_only_field_officers_check(self, world, api, arta_elsewhere, who):
        assert ask(api(getattr(world, who))).status_code == 403
        assert not AuditEvent.objects.filter(action="duplicate_check").exists()

    def test_it_is_rate_limited_per_user_across_api_and_pages(
        self, world, api, client, arta_elsewhere, settings
    ):
        settings.DUPLICATE_CHECKS_PER_WINDOW = 2
        officer = api(world.officer)
        assert [ask(officer).status_code for _ in range(2)] == [200, 200]

        refused = ask(officer)

        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert "Too many duplicate checks" in refused.json()["detail"]
        assert AuditEvent.objects.filter(action="duplicate_check").count() == 2
        # The registration page counts against the same limit.
        verified_login(client, world.officer)
        page = client.post(
            reverse("applicant-register"),
            {
                "first_name": "Nova",
                "last_name": "Osoba",
                "date_of_birth": "1991-04-05",
                "centre": world.centre.pk,
                "target_groups": ["returnee"],
                "language": "sr-latn",
                "household_size": 1,
                "dependants": 0,
                "consent_given": "on",
                "consent_return": "on",
            },
        )
        assert page.status_code == 429
        assert "Too many duplicate checks" in page.content.decode()
        # Another officer has a count of their own.
        assert ask(api(world.colleague)).status_code == 200

    def test_registration_answers_a_match_elsewhere_without_its_id(self, world, api, arta_elsewhere):
        response = api(world.officer).post(
            "/api/v1/applicants/",
            {
                "first_name": "Arta",
                "last_name": "Demaj",
                "date_of_birth": "1992-01-01",
                "phone": "+38344123456",
                "centre": world.centre.pk,
                "target_groups": ["returnee"],
                "consent_given": True,
                "special_consents": ["return"],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["possible_duplicates"], body["match_elsewhere"]) == ([], True)
        flag = DuplicateFlag.objects.get(applicant_id=body["id"])
        officer_flags = api(world.officer).get("/api/v1/applicants/duplicates/").json()["results"]
        assert [(f["id"], f["other"], f["reasons"], f["other_elsewhere"]) for f in officer_flags] == [
            (flag.pk, None, [], True)
        ]
        # The programme manager of both centres sees the match, to decide it.
        manager_flags = api(world.manager).get("/api/v1/applicants/duplicates/").json()["results"]
        assert [(f["other"], f["reasons"], f["other_elsewhere"]) for f in manager_flags] == [
            (arta_elsewhere.pk, ["same_phone"], False)
        ]


# ---- small groups -----------------------------------------------------------------------


def figures(**counts):
    row = dict.fromkeys(
        (
            "enterprises_supported",
            "cooperatives_supported",
            "families_with_non_cash_benefits",
            "people_trained",
            "survived_12m",
            "closed_by_12m",
            "assessed_12m",
            "awaiting_12m_visit",
            "jobs_created",
            "jobs_owner",
            "jobs_family",
            "jobs_employees",
        ),
        0,
    )
    row.update(investment_eur=0, survival_rate_12m=None, **counts)
    return row


class TestSmallGroups:
    def test_a_lone_small_group_takes_the_next_smallest_with_it(self, world):
        rows = [
            figures(enterprises_supported=9, families_with_non_cash_benefits=9, people_trained=20),
            figures(enterprises_supported=6, families_with_non_cash_benefits=6, people_trained=20),
            figures(enterprises_supported=1, families_with_non_cash_benefits=1, people_trained=20),
        ]
        shown = reports.withhold_small_groups(world.finance, rows, complementary=True)
        assert [row["enterprises_supported"] for row in shown] == [9, None, None]
        # People trained are a figure of their own: twenty each, all shown.
        assert [row["people_trained"] for row in shown] == [20, 20, 20]
        assert "people_trained" not in shown[2]["withheld"]

    def test_survival_of_a_few_businesses_is_withheld_alone(self, world):
        row = figures(
            enterprises_supported=8, families_with_non_cash_benefits=8, assessed_12m=2, survived_12m=1
        )
        (shown,) = reports.withhold_small_groups(world.auditor, [row])
        assert shown["enterprises_supported"] == 8
        assert (shown["survived_12m"], shown["assessed_12m"]) == (None, None)
        assert shown["withheld"] == sorted(reports.SURVIVAL_FIGURES)

    def test_the_manager_reads_every_figure(self, world):
        row = figures(enterprises_supported=1, families_with_non_cash_benefits=1)
        (shown,) = reports.withhold_small_groups(world.manager, [row])
        assert (shown["enterprises_supported"], shown["withheld"]) == (1, [])
