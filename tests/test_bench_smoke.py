"""The benchmark's code at a tiny scale: the generated histories obey the workflow (a
ready application approves through the real service), the audit chain verifies, and the
measurer produces timings, query counts and the comparison with the raw SQL floor.

The full benchmark (`make bench`, PostgreSQL, 100,000 applications) is not part of the
suite; its throughput and export parts run in separate processes and are left out here."""

import pytest
from django.contrib.auth import get_user_model

from applicants.models import Applicant
from audit import trail
from bench import generate, report
from bench.measure import Measurer, percentile
from bench.throughput import ready_applications, worker_lists
from grants import services
from grants.models import AuditEvent, Commitment, EquipmentItem, GrantApplication, Programme
from grants.workflow import State

SCALE = 0.002  # 200 applications


@pytest.fixture
def dataset(db):
    return generate.generate(scale=SCALE, progress=False)


def test_it_generates_a_consistent_dataset(dataset):
    assert GrantApplication.objects.count() == 200
    assert Programme.objects.count() == 4
    assert EquipmentItem.objects.count() >= 200
    assert dataset["rows"]["grants_grantapplication"] == 200
    states = set(GrantApplication.objects.values_list("state", flat=True))
    assert {State.DRAFT, State.SUBMITTED, State.BUSINESS_TRAINING, State.FOLLOW_UP} <= states
    # Every approved or later grant has its commitment; the chain of audit rows verifies.
    committed = GrantApplication.objects.filter(state__in=[State.APPROVED, *State.DELIVERED_OR_LATER])
    assert Commitment.objects.filter(application__in=committed, status="active").count() == committed.count()
    assert AuditEvent.objects.count() >= 0.9 * generate.Scale(SCALE).audit_events
    assert trail.verify_chain()[2] == []


def test_it_generates_applications_the_workflow_can_approve(dataset):
    ready = ready_applications()
    assert len(ready) == dataset["ready_to_approve"] > 0
    # Every one of them, not only the first: at 100,000 people a street number shared by
    # chance made one household of many, and the one-grant rule refused every approval.
    assert {pk: services.unmet_rules(GrantApplication.objects.get(pk=pk), "approve") for pk in ready} == {
        pk: [] for pk in ready
    }
    places = list(Applicant.objects.values_list("municipality", "address"))
    assert len(set(places)) == len(places), "two generated people share an address: one household"
    application = GrantApplication.objects.get(pk=ready[0])
    approver = get_user_model().objects.get(username=generate.WORKER_MANAGER.format(0))

    services.take_transition(application=application, name="approve", by=approver)

    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert application.commitments.get(status="active").amount == application.requested_total
    assert AuditEvent.objects.filter(application=application, action="approve").count() == 1
    assert trail.verify_chain()[2] == []


def test_it_measures_pages_and_compares_with_the_floor(dataset):
    measurer = Measurer(runs=1, warmup=0, log=lambda *_: None)
    measurer.run_pages()
    measurer.run_comparisons()

    measured = {r.name: r for r in measurer.results}
    assert measured["inbox page 1"].status == 200
    assert measured["inbox page 1"].queries > 0
    assert measured["application page, API"].status == 200
    assert measured["budget report"].status == 200
    # Every page answers itself (an applicant under an old consent wording is sent to
    # the consent page: a 302 measures nothing).
    assert {r.name: r.status for r in measurer.results} == {r.name: 200 for r in measurer.results}
    assert all(r.median_ms > 0 for r in measurer.results)
    floor = measurer.comparisons["inbox page 1 data step"]
    assert floor["raw_sql_floor_ms"] > 0 and floor["ratio_rows_to_floor"] > 0
    table = report.table({**measurer.as_dict(), "dataset": report.dataset_counts()})
    assert "| inbox page 1 | UI | bench_officer | 1 |" in table
    assert "raw SQL floor" in table


def test_it_gives_racing_workers_shared_applications():
    lists, raced = worker_lists(list(range(40)), 4)
    assert [len(ids) for ids in lists] == [11, 11, 11, 11]
    assert raced == 4
    # Worker 0 starts with worker 1's first application: they race for it.
    assert lists[0][0] == lists[1][1] == 10
    assert percentile([1, 2, 3, 4, 100], 0.95) == 100


def test_a_deep_page_has_the_same_rows_found_by_their_ids_first(
    dataset, monkeypatch, django_assert_num_queries
):
    from grants import selectors
    from grants.models import ApplicationQuerySet

    officer = get_user_model().objects.get(username=generate.OFFICER)
    expected = list(selectors.applications_with_items(officer).values_list("pk", flat=True))[100:150]
    monkeypatch.setattr(ApplicationQuerySet, "DEFERRED_JOIN_FROM", 100)
    page = selectors.applications_with_items(officer)[100:150]

    assert "IN (SELECT" in str(page.query)
    with django_assert_num_queries(2):  # the page's rows, then their items
        rows = list(page)
    assert [a.pk for a in rows] == expected
    assert all(a.items.all() for a in rows)
