"""Training without a grant broken down as donors ask (issue 21.3): people trained by sex,
age band and centre, registered people and people counted without names together, small
numbers withheld by the one rule (reports.figures.small_numbers); meetings by kind."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import services
from reports import donor
from reports import figures as reports

from .conftest import anonymous_training_cohort, verified_login
from .factories import ApplicantFactory
from .test_exports import csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def weeks_ago(n):
    return TODAY - datetime.timedelta(days=7 * n)


def born_aged(years):
    return TODAY.replace(year=TODAY.year - years) - datetime.timedelta(days=30)


@pytest.fixture
def cohort(world):
    return anonymous_training_cohort(
        world, title="Vocational training", session_dates=[weeks_ago(n) for n in (3, 2, 1)]
    )


def complete(world, cohort, **facts):
    someone = ApplicantFactory(centre=cohort.centre, **facts)
    services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
    for session in cohort.sessions.all():
        services.record_attendance(by=world.officer, session=session, present=True, applicant=someone)
    return someone


@pytest.fixture
def mixed(world, cohort):
    """Four women of 40 and two men of 20 complete the course by name; two sessions
    counted without names, the second the fullest (7 women 25–34, 5 men 15–24); two
    meetings."""
    for _n in range(4):
        complete(world, cohort, sex="female", date_of_birth=born_aged(40))
    for _n in range(2):
        complete(world, cohort, sex="male", date_of_birth=born_aged(20))
    first, second, _third = cohort.sessions.order_by("date")
    services.record_headcount(
        by=world.officer, session=first, counts={("female", "25-34"): 6, ("male", ""): 4}
    )
    services.record_headcount(
        by=world.officer, session=second, counts={("female", "25-34"): 7, ("male", "15-24"): 5}
    )
    for kind, participants in (("business_training", 15), ("network", 30), ("network", 12)):
        services.record_meeting(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            held_on=weeks_ago(1),
            kind=kind,
            participants=participants,
        )
    return cohort


def row(rows, key):
    return next(r for r in rows if r["key"] == key)


def people(r):
    return (r["people_trained"], r["people_registered"], r["people_counted"])


class TestExactFigures:
    def test_registered_people_and_headcounts_join_by_sex(self, world, mixed):
        figures = reports.training_breakdown(world.manager)
        assert people(row(figures["by_sex"], "female")) == (11, 4, 7)
        assert people(row(figures["by_sex"], "male")) == (7, 2, 5)
        assert people(row(figures["by_sex"], "unknown")) == (0, 0, 0)
        assert people(figures["total"]) == (18, 6, 12)

    def test_by_age_band_in_the_programmes_bands(self, world, mixed):
        bands = reports.training_breakdown(world.manager)["by_age_band"]
        assert [r["key"] for r in bands] == ["<15", "15-24", "25-34", "35-49", "50+", "unknown"]
        assert people(row(bands, "15-24")) == (7, 2, 5)
        assert people(row(bands, "25-34")) == (7, 0, 7)
        assert people(row(bands, "35-49")) == (4, 4, 0)

    def test_a_programmes_own_bands_with_a_programme_filter(self, world, mixed):
        world.programme.age_bands = [18, 30]
        world.programme.save(update_fields=["age_bands"])
        filters = reports.ReportFilters(programme=world.programme.pk)
        bands = reports.training_breakdown(world.manager, filters)["by_age_band"]
        assert people(row(bands, "30+")) == (4, 4, 0)
        assert people(row(bands, "18-29")) == (2, 2, 0)
        # headcounts recorded in the bands of their day keep their own key
        assert people(row(bands, "25-34")) == (7, 0, 7)

    def test_by_centre_with_the_label_the_reader_may_read(self, world, mixed):
        [centre] = reports.training_breakdown(world.manager)["by_centre"]
        assert (centre["key"], centre["label"]) == (world.centre.pk, world.centre.name)
        assert people(centre) == (18, 6, 12)
        [seen_by_finance] = reports.training_breakdown(world.finance)["by_centre"]
        assert seen_by_finance["label"] == world.centre.public_label

    def test_meetings_by_kind(self, world, mixed):
        meetings = reports.training_breakdown(world.manager)["meetings_by_kind"]
        assert [(m["key"], m["meetings"], m["participants"]) for m in meetings] == [
            ("business_training", 1, 15),
            ("network", 2, 42),
        ]

    def test_a_target_group_leaves_the_headcounts_unknown(self, world, mixed):
        filters = reports.ReportFilters(target_group="returnee")
        figures = reports.training_breakdown(world.manager, filters)
        assert people(row(figures["by_sex"], "female")) == (None, 4, None)
        assert row(figures["meetings_by_kind"], "network")["meetings"] is None

    def test_other_centres_and_periods_count_nothing(self, world, mixed):
        assert reports.training_breakdown(world.officer2)["by_centre"] == []
        later = reports.ReportFilters(date_from=TODAY + datetime.timedelta(days=1))
        assert people(reports.training_breakdown(world.manager, later)["total"]) == (0, 0, 0)


class TestSmallNumbers:
    def test_managers_see_every_figure_exactly(self, world, mixed):
        shown = reports.training_service_report(world.manager)
        assert people(row(shown["by_sex"], "male")) == (7, 2, 5)
        assert all(not r["withheld"] for r in [*shown["by_sex"], *shown["by_age_band"], shown["total"]])

    @pytest.mark.parametrize("role", ["finance", "auditor"])
    def test_finance_and_the_auditor_read_small_cells_as_withheld(self, world, mixed, role):
        shown = reports.training_service_report(getattr(world, role))
        male = row(shown["by_sex"], "male")
        # two registered men: "< 5"; the count without names beside them would give them away
        assert people(male) == (7, None, None)
        assert male["below_threshold"] == ["people_registered"]
        assert male["withheld"] == ["people_counted", "people_registered"]
        female = row(shown["by_sex"], "female")
        assert people(female) == (11, None, None) and female["below_threshold"] == ["people_registered"]
        assert people(shown["total"]) == (18, 6, 12)

    def test_a_lone_small_sum_takes_the_next_smallest_with_it(self, world, mixed):
        bands = reports.training_service_report(world.auditor)["by_age_band"]
        assert row(bands, "35-49")["people_trained"] is None
        assert row(bands, "35-49")["below_threshold"] == ["people_registered", "people_trained"]
        # 15-24 and 25-34 both have 7: one of them is hidden with it (secondary), not as "< 5"
        secondary = [r for r in bands if r["key"] in ("15-24", "25-34") and r["people_trained"] is None]
        assert len(secondary) == 1 and "people_trained" not in secondary[0]["below_threshold"]

    def test_exports_and_the_donor_report_withhold_for_managers_too(self, world, mixed):
        protected = reports.protected_training_service(world.manager)
        assert people(row(protected["by_sex"], "male")) == (7, None, None)
        assert row(protected["by_age_band"], "35-49")["people_trained"] is None

    def test_a_small_total_of_registered_people_is_withheld_in_files(self, world, cohort):
        complete(world, cohort, sex="female")
        protected = reports.protected_training_service(world.manager)
        assert protected["people_trained"] is None and "people_trained" in protected["withheld"]
        assert protected["total"]["people_registered"] is None
        assert reports.training_service_report(world.manager)["total"]["people_registered"] == 1


class TestQueries:
    def test_the_report_keeps_its_queries_whatever_the_rows(
        self, world, mixed, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(12) as before:
            reports.training_service_report(world.manager)
        other = services.create_cohort(
            by=world.officer2,
            programme=world.other_programme,
            centre=world.other_centre,
            title="Another course",
            session_dates=[weeks_ago(2)],
        )
        world.other_programme.anonymous_training = True
        world.other_programme.save(update_fields=["anonymous_training"])
        for _n in range(3):
            someone = ApplicantFactory(centre=world.other_centre, sex="other")
            services.enrol_applicant(by=world.officer2, cohort=other, applicant=someone)
            services.record_attendance(
                by=world.officer2, session=other.sessions.get(), present=True, applicant=someone
            )
        services.record_headcount(
            by=world.officer2, session=other.sessions.get(), counts={("other", "50+"): 3, ("", ""): 2}
        )
        with django_assert_max_num_queries(len(before.captured_queries)):
            shown = reports.training_service_report(world.manager)
        assert len(shown["by_centre"]) == 2


class TestWhereTheyAreShown:
    def test_the_api_report_adds_them_typed(self, world, api, mixed):
        body = api(world.manager).get("/api/v1/reports/impact/").json()
        training = body["training_service"]
        assert training["people_trained"] == 6  # unchanged: registered people only
        assert people(row(training["by_sex"], "female")) == (11, 4, 7)
        assert people(training["total"]) == (18, 6, 12)
        assert row(training["meetings_by_kind"], "network")["meetings"] == 2
        hidden = api(world.auditor).get("/api/v1/reports/impact/").json()["training_service"]
        assert row(hidden["by_sex"], "male")["below_threshold"] == ["people_registered"]

    @pytest.mark.parametrize(("role", "shown"), [("manager", "2"), ("auditor", "&lt; 5")])
    def test_the_dashboard_shows_them(self, world, client, mixed, role, shown):
        verified_login(client, getattr(world, role))
        page = client.get(reverse("dashboard")).content.decode()
        assert "People trained without a grant by sex, age band and centre; meetings by kind" in page
        male = page.split('<th scope="row">Male</th>')[-1]
        assert f'data-label="Registered">{shown}</td>' in male.replace("\n", "")

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_the_impact_export_adds_rows_with_small_numbers_protected(self, world, api, mixed, fmt):
        response = api(world.manager).get(f"/api/v1/reports/impact/export.{fmt}")
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
        training = {(r["group"], str(r["key"] or "")): r for r in rows if r["group"].startswith("training_")}
        female = training[("training_sex", "female")]
        assert (str(female["people_trained"]), female["people_registered"]) == ("11", "< 5")
        assert female["people_counted"] in ("", None)
        assert "people_counted" in female["withheld"].split()
        assert str(training[("training_all", "")]["people_trained"]) == "18"
        network = training[("training_meetings", "network")]
        assert (str(network["meetings_held"]), str(network["meeting_participants"])) == ("2", "42")
        assert str(training[("training_centre", str(world.centre.pk))]["people_trained"]) == "18"

    def test_the_donor_report_has_the_tables(self, world, mixed):
        content = donor.build(world.manager, world.programme, weeks_ago(10), TODAY)
        tables = dict(donor.training_breakdown_tables(content, donor.headings()))
        by_sex = {r[0]: r[1:] for r in tables["Sex"]}
        # the report leaves the programme team: small numbers protected for the manager too
        assert by_sex["Male"] == [7, "< 5", "–"] and by_sex["Total"] == [18, 6, 12]
        assert ["Network meeting", 2, 42] in donor.training_meeting_rows(content)
        assert donor.xlsx(content, "en")[:2] == b"PK" and donor.pdf(content, "en")[:4] == b"%PDF"
