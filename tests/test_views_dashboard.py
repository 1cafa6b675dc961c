"""The dashboard of programme figures for managers, finance and auditors: the numbers
reports.figures computes, as figures and bars per programme, centre, target group and
quarter. The auditor sees this page only, and no personal data on it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applicants.selectors import forget_permissions
from reports import figures as reports

from .conftest import verified_login
from .factories import ApplicantFactory, DocumentFactory
from .test_reports import more_centres_and_programmes

pytestmark = pytest.mark.django_db

# The dashboard's queries, whatever the data, the programmes, centres and quarters: 6
# for the totals, 1 + 6 for the breakdown, 6 for the 8 quarters, 7 for the session,
# the user, the permissions and the filter form's choices, and 1 for the complaints
# register, and 3 for training without a grant (people, participants, meetings) and 5
# for its breakdowns (registered people by sex, age band and centre, people counted
# without names, meetings by kind; a 6th names the centres once someone is trained:
# tests/test_training_figures.py).
DASHBOARD_QUERIES = 35


@pytest.fixture
def figures(world):
    """Two supported businesses at the first centre (one completed, operating at 12
    months), one at the second, and a draft that counts for nothing."""
    world.application(completed=True, business_name="Completed tailor")
    world.application(delivered=True, applicant=ApplicantFactory(centre=world.centre, is_former_inmate=True))
    world.application(delivered=True, applicant=world.person2, programme=world.other_programme)
    world.application(business_name="Just a draft")
    return world


def figure_list(body):
    return body.split('<ul class="figures">')[1].split("</ul>")[0]


def test_it_shows_the_programme_figures_to_the_manager(client, figures):
    user = figures.manager
    verified_login(client, user)

    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    expected = reports.impact_figures(user)
    assert expected["enterprises_supported"] == 3
    shown = figure_list(response.content.decode())
    assert f'<span class="figure">{expected["enterprises_supported"]}</span> enterprises supported' in shown
    assert f'<span class="figure">{expected["families_with_non_cash_benefits"]}</span>' in shown
    assert f'<span class="figure">{expected["people_trained"]}</span> people trained' in shown
    assert f'<span class="figure">{expected["jobs_created"]}</span>' in shown
    assert "3,300 €" in shown  # 3 × 1100.00 EUR of equipment


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_the_auditor_see_no_group_smaller_than_five_and_are_told(client, figures, role):
    verified_login(client, getattr(figures, role))
    for _ in range(3):  # five people trained (the three businesses' owners and two more)
        figures.application(delivered=True, applicant=ApplicantFactory(centre=figures.centre))

    body = client.get(reverse("dashboard"), {"by": "centre"}).content.decode()

    shown = figure_list(body)
    assert '<span class="figure">6</span> enterprises supported' in shown  # six people: shown
    assert "fewer than 5 people are behind it" in body
    table = body.split("All figures as a table")[1].split("</table>")[0]
    # Niš has five, Prizren one: Prizren is withheld, and Niš with it, or the total
    # minus Niš would give Prizren away.
    assert '<td class="num">1</td>' not in table
    assert table.count("–") >= 2


def test_the_manager_sees_small_groups_exactly(client, figures):
    verified_login(client, figures.manager)
    body = client.get(reverse("dashboard"), {"centre": figures.other_centre.pk}).content.decode()
    assert '<span class="figure">1</span> enterprises supported' in figure_list(body)
    assert "fewer than 5 people" not in body


def test_the_bars_break_the_figure_down_by_centre_and_by_target_group(client, figures):
    verified_login(client, figures.manager)

    by_centre = client.get(reverse("dashboard"), {"by": "centre"}).content.decode()
    bars = by_centre.split('<ul class="bars">')[1].split("</ul>")[0]
    assert "Integration Centre Niš" in bars and "Integration Centre Prizren" in bars
    assert 'width="100.0"' in bars  # Niš has the most (2), drawn full length
    assert 'width="50.0"' in bars  # Prizren has half of it

    by_group = client.get(
        reverse("dashboard"), {"by": "target_group", "figure": "investment_eur"}
    ).content.decode()
    assert "Person released from prison" in by_group
    assert "Investment (EUR) — Per target group" in by_group


def test_filters_narrow_the_figures(client, figures):
    verified_login(client, figures.manager)
    body = client.get(reverse("dashboard"), {"centre": figures.other_centre.pk}).content.decode()
    assert '<span class="figure">1</span> enterprises supported' in figure_list(body)


def test_a_backwards_period_is_named_not_a_500(client, figures):
    verified_login(client, figures.manager)
    response = client.get(reverse("dashboard"), {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_the_quarters_chart_is_drawn_on_the_server(client, figures):
    verified_login(client, figures.finance)
    body = client.get(reverse("dashboard")).content.decode()
    quarter_section = body.split("quarter by quarter")[1]
    assert quarter_section.count('<svg class="bar"') == 8
    assert "<script" not in body.split("<main")[1].split("</main>")[0]


def test_the_dashboard_has_a_bounded_number_of_queries(client, figures, django_assert_max_num_queries):
    verified_login(client, figures.auditor)
    for _ in range(4):
        figures.application(delivered=True, applicant=ApplicantFactory(centre=figures.centre))
    # 6 aggregates for the totals, 1 + 6 for the programmes, 6 for the 8 quarters
    client.get(reverse("dashboard"))  # the first request after the login reads a few more
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        client.get(reverse("dashboard"))


class TestAuditorSeesOnlyTheDashboard:
    @pytest.fixture
    def auditor(self, client, world):
        return verified_login(client, world.auditor)

    def test_no_personal_data_on_the_page(self, auditor, figures):
        body = auditor.get(reverse("dashboard")).content.decode()
        assert figures.person.full_name not in body
        assert "Completed tailor" not in body

    def test_the_home_page_is_the_dashboard(self, auditor):
        assert auditor.get(reverse("home")).url == reverse("dashboard")

    def test_the_menu_has_the_dashboard_the_programmes_and_the_audit_trail(self, auditor):
        menu = (
            auditor.get(reverse("dashboard"))
            .content.decode()
            .split('<nav class="menu"')[1]
            .split("</nav>")[0]
        )
        assert menu.count("<li>") == 6
        names = ("dashboard", "indicator-progress", "donor-reports", "programme-list", "audit-trail")
        for name in (*names, "complaint-register"):
            assert f'href="{reverse(name)}"' in menu

    @pytest.mark.parametrize(
        "name",
        [
            "inbox",
            "approvals",
            "finance-budget",
            "finance-deliveries",
            "finance-commitments",
            "applicant-list",
            "cohort-list",
            "my-applications",
        ],
    )
    def test_every_other_page_answers_403(self, auditor, name):
        assert auditor.get(reverse(name)).status_code == 403

    def test_applications_and_documents_are_not_found(self, auditor, world):
        application = world.application(delivered=True)
        document = DocumentFactory(application=application)
        assert auditor.get(reverse("application-detail", args=[application.pk])).status_code == 404
        assert auditor.get(reverse("document-download-page", args=[document.pk])).status_code == 404
        assert auditor.get(reverse("application-ledger-page", args=[application.pk])).status_code == 403

    def test_the_auditor_gets_aggregate_exports_only(self, auditor, figures):
        body = auditor.get(
            reverse("dashboard"), {"centre": figures.centre.pk, "by": "target_group"}
        ).content.decode()
        assert reverse("api:report-ledger-export", args=["csv"]) not in body
        export = f"{reverse('api:report-impact-export', args=['csv'])}?centre={figures.centre.pk}&amp;by=target_group"
        assert export in body
        response = auditor.get(export.replace("&amp;", "&"))
        assert response.status_code == 200
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"Person released from prison" in content or b"former_inmate" in content


@pytest.mark.parametrize("role", ["officer", "applicant"])
def test_officers_and_applicants_do_not_see_the_dashboard(client, world, role):
    verified_login(client, getattr(world, role))
    assert client.get(reverse("dashboard")).status_code == 403


@pytest.mark.parametrize("by", ["programme", "centre"])
def test_the_query_count_does_not_grow_with_the_programmes_and_centres(
    client, world, by, django_assert_num_queries
):
    verified_login(client, world.manager)
    more_centres_and_programmes(world, 2)
    client.get(reverse("dashboard"))  # the first request after the login reads a few more
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard"), {"by": by}).status_code == 200
    assert len(few) == DASHBOARD_QUERIES
    more_centres_and_programmes(world, 4)
    forget_permissions(world.manager)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        body = client.get(reverse("dashboard"), {"by": by}).content.decode()
    assert '<span class="figure">6</span> enterprises supported' in body
