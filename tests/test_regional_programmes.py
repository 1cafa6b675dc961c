"""Programmes spanning several countries (issue 21, part 4): a donor's regional programme
is one programme per country, each in its currency, named together. The budget report
shows each part in its own currency and adds up only what was delivered in EUR; every
report filters by `regional_programme`."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from grants.models import DeliveryLine, Programme, RegionalProgramme
from reports import figures as reports

from .conftest import verified_login
from .factories import ApplicationFactory, CountryFactory, ProgrammeFactory, make_full_delivery

pytestmark = pytest.mark.django_db


class Regional:
    def __init__(self, world):
        self.regional = RegionalProgramme.objects.create(
            name="Regional programme for returnees", public_name="Regional SME support", donor="GIZ"
        )
        self.serbia = ProgrammeFactory(
            country=world.serbia, donor="GIZ", currency="RSD", budget=Decimal("5000000.00"),
            ceiling=Decimal("350000.00"), regional_programme=self.regional, name="Returnees Serbia",
        )  # fmt: skip
        self.kosovo = ProgrammeFactory(
            country=world.kosovo, donor="GIZ", currency="EUR", regional_programme=self.regional,
            name="Returnees Kosovo",
        )  # fmt: skip
        self.alone = ProgrammeFactory(country=world.serbia, donor="GIZ", currency="RSD", name="Not regional")
        day = datetime.date.today()
        for programme, person in (
            (self.serbia, world.person),
            (self.kosovo, world.person2),
            (self.alone, world.person),
        ):
            application = ApplicationFactory(applicant=person, programme=programme, delivered=True)
            make_full_delivery(application, delivered_on=day)


@pytest.fixture
def regional(world):
    return Regional(world)


def test_a_part_has_the_regional_donor_and_one_part_per_country(regional, world):
    albania = CountryFactory(code="AL", name="Albania")
    other_donor = Programme(country=albania, donor="EU", currency="ALL", regional_programme=regional.regional)
    with pytest.raises(ValidationError) as refused:
        other_donor.clean()
    assert "regional_programme" in refused.value.message_dict
    second = Programme(
        country=world.serbia, donor="GIZ", currency="RSD", regional_programme=regional.regional
    )
    with pytest.raises(ValidationError) as refused:
        second.clean()
    assert "already has a part in this country" in str(refused.value)
    Programme(country=albania, donor="GIZ", currency="ALL", regional_programme=regional.regional).clean()


def test_the_budget_report_filters_by_regional_programme(regional, world):
    filters = reports.ReportFilters.from_params({"regional_programme": str(regional.regional.pk)})
    report = reports.budget_report(world.manager, filters)
    assert {row["id"] for row in report["results"]} == {regional.serbia.pk, regional.kosovo.pk}
    (group,) = report["by_regional_programme"]
    assert [(part["country__name"], part["currency"]) for part in group["parts"]] == [
        ("Kosovo", "EUR"),
        ("Serbia", "RSD"),
    ]
    in_eur = DeliveryLine.objects.filter(
        delivery__application__programme__regional_programme=regional.regional
    ).aggregate(total=Sum("amount_eur"))["total"]
    assert group["delivered_eur"] == in_eur
    # Without the filter the programme that is no part is not in the regional rollup.
    everything = reports.budget_report(world.manager)
    assert {row["id"] for row in everything["results"]} >= {regional.alone.pk}
    assert [g["id"] for g in everything["by_regional_programme"]] == [regional.regional.pk]


def test_impact_figures_and_the_api_take_the_filter(regional, world):
    client = APIClient()
    client.force_authenticate(world.manager)
    answer = client.get(reverse("api:report-budget"), {"regional_programme": regional.regional.pk})
    assert answer.status_code == 200, answer.content
    assert {row["programme"] for row in answer.json()["results"]} == {regional.serbia.pk, regional.kosovo.pk}
    assert answer.json()["filters"]["regional_programme"] == regional.regional.pk
    impact = client.get(reverse("api:report-impact"), {"regional_programme": regional.regional.pk})
    assert impact.status_code == 200
    assert client.get(reverse("api:report-budget"), {"regional_programme": "abc"}).status_code == 400
    programmes = {row["id"]: row for row in client.get(reverse("api:programmes")).json()["results"]}
    assert programmes[regional.serbia.pk]["regional_programme"] == regional.regional.pk
    assert programmes[regional.alone.pk]["regional_programme"] is None


def test_the_budget_page_shows_each_part_in_its_currency(regional, world):
    page = Client()
    verified_login(page, world.finance)
    answer = page.get(reverse("finance-budget"))
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "Per regional programme" in text
    # Finance reads the public label, not the name.
    assert "Regional SME support" in text
    assert "Regional programme for returnees" not in text
