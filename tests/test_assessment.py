"""The scored assessment: weighted score from the programme's rubric, pass mark,
recommendation with reasons, site visit, and history after a return for changes."""

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.utils import timezone, translation

from assessments.admin import RubricCriterionInline
from assessments.models import Assessment, RubricCriterion
from assessments.selectors import assessment_history
from assessments.services import record_assessment
from core.errors import Conflict, NotAllowed, NotVisible, RuleNotMet, ServiceError
from grants import services as grant_services
from grants.models import AuditEvent, Programme

from .conftest import verified_login
from .factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

ALL = {"viability": 5, "skills": 4, "market": 3, "need": 2, "commitment": 1}


def assess(world, app, scores=None, recommendation="approve", **kwargs):
    kwargs.setdefault("reasons", "Workshop visited; the plan fits the market.")
    return record_assessment(
        by=kwargs.pop("by", world.officer),
        application=app,
        scores=ALL if scores is None else scores,
        recommendation=recommendation,
        **kwargs,
    )


def rubric_programme(world, weights):
    """A programme whose rubric has the criteria "first", "second", … with `weights`."""
    programme = ProgrammeFactory(country=world.serbia, rubric=False)
    for position, weight in enumerate(weights):
        RubricCriterion.objects.create(
            programme=programme,
            criterion=("first", "second", "third")[position],
            label=f"Criterion {position + 1}",
            weight=Decimal(weight),
            position=position,
        )
    return programme


def approve(world, app):
    return grant_services.take_transition(application=app, name="approve", by=world.manager)


class TestScore:
    def test_the_weighted_score_follows_the_rubric_weights(self, world):
        app = world.application(training=True)
        assessment = assess(world, app, site_visit_on=timezone.localdate(), notes="Premises rented, dry.")
        # 0.30·5 + 0.20·4 + 0.20·3 + 0.15·2 + 0.15·1
        assert assessment.weighted_score == Decimal("3.35")
        assert (assessment.complete, assessment.passes) == (True, True)
        assert assessment.notes == "Premises rented, dry."
        event = AuditEvent.objects.get(application=app, action="assessed")
        assert (event.actor, event.data) == (
            world.officer,
            {
                "recommendation": "approve",
                "score": "3.35",
                "before": None,
                "after": {"assessment": assessment.pk},
            },
        )

    def test_a_new_assessment_keeps_the_one_it_replaces_in_its_event(self, world):
        app = world.application(training=True)
        first = assess(world, app, scores=dict.fromkeys(ALL, 2), recommendation="revise", reasons="No quote.")
        second = assess(world, app)
        event = AuditEvent.objects.filter(application=app, action="assessed").order_by("-id").first()
        assert event.data["before"] == {"assessment": first.pk, "recommendation": "revise", "score": "2.00"}
        assert event.data["after"] == {"assessment": second.pk}
        assert "No quote." not in event.canonical()

    @pytest.mark.parametrize(
        "weights, score",
        [
            # (0.50·4 + 0.25·2) / 0.75 = 3.333…: weights that add up to less than 1
            (("0.50", "0.25"), Decimal("3.33")),
            # (1.50·4 + 0.50·2) / 2.00 = 3.50: and to more than 1
            (("1.50", "0.50"), Decimal("3.50")),
        ],
    )
    def test_weights_need_not_add_up_to_one(self, world, weights, score):
        programme = rubric_programme(world, weights)
        app = world.application(programme=programme, training=True)
        assessment = assess(world, app, scores={"first": 4, "second": 2})
        assert (assessment.weighted_score, assessment.complete, assessment.passes) == (score, True, True)
        assert approve(world, app).state == "approved"

    def test_a_score_half_way_between_two_cents_rounds_up(self, world):
        app = world.application(programme=rubric_programme(world, ("1.00", "7.00")), training=True)
        assessment = assess(world, app, scores={"first": 3, "second": 2})
        assert assessment.weighted_score == Decimal("2.13")  # (1·3 + 7·2) / 8 = 2.125

    def test_a_partial_score_is_weighted_by_the_criteria_scored(self, world):
        """Shown while a score is missing (never enough to approve): 0.50·4 / 0.50."""
        app = world.application(programme=rubric_programme(world, ("0.50", "0.25")), training=True)
        assessment = assess(world, app, scores={"first": 4})
        assert (assessment.weighted_score, assessment.complete, assessment.passes) == (
            Decimal("4.00"),
            False,
            False,
        )
        with pytest.raises(RuleNotMet):
            approve(world, app)

    def test_the_permission_to_add_assessments_alone_does_not_make_an_assessor(self, world):
        world.manager.user_permissions.add(Permission.objects.get(codename="add_assessment"))
        manager = get_user_model().objects.get(pk=world.manager.pk)
        with pytest.raises(NotAllowed, match="Only field officers assess applications"):
            assess(world, world.application(training=True), by=manager)
        assert not Assessment.objects.exists()

    def test_notes_and_reasons_of_the_full_length_are_kept_whole(self, world):
        text = "n" * 8000
        assessment = assess(world, world.application(training=True), notes=text, reasons=text)
        assessment.refresh_from_db()
        assert (assessment.notes, assessment.reasons) == (text, text)

    def test_the_pass_mark_decides_and_the_guard_says_by_how_much(self, world):
        app = world.application(training=True)
        assess(world, app, scores=dict.fromkeys(ALL, 2))
        with pytest.raises(RuleNotMet) as excinfo:
            approve(world, app)
        assert excinfo.value.rules == [
            (
                "assessment_passes",
                "The assessment's weighted score 2.00 is below the programme's pass mark 3.00.",
            )
        ]
        world.programme.pass_mark = Decimal("2.00")
        world.programme.save()
        assert approve(world, app).state == "approved"

    def test_a_missing_score_is_named_by_the_approve_guard(self, world):
        app = world.application(training=True)
        assessment = assess(world, app, scores={k: 5 for k in ALL if k != "market"})
        assert assessment.complete is False
        with pytest.raises(RuleNotMet) as excinfo:
            approve(world, app)
        assert excinfo.value.rules == [
            ("assessment_passes", "A score is missing for the criterion “Market”.")
        ]
        app.refresh_from_db()
        assert app.state == "business_training"

    def test_the_missing_criterion_is_named_in_the_readers_language(self, world):
        app = world.application(training=True)
        assess(world, app, scores={k: 5 for k in ALL if k != "market"})
        RubricCriterion.objects.filter(programme=world.programme, criterion="market").update(label="Market")
        with translation.override("sr-latn"), pytest.raises(RuleNotMet) as excinfo:
            approve(world, app)
        assert excinfo.value.rules == [("assessment_passes", "Nedostaje ocena za kriterijum „Tržište”.")]
        RubricCriterion.objects.filter(programme=world.programme, criterion="market").update(
            label="Buyers nearby"
        )
        with translation.override("sq"), pytest.raises(RuleNotMet) as excinfo:
            approve(world, app)
        assert "Buyers nearby" in str(excinfo.value)  # a programme's own label stays as written

    def test_several_missing_scores_are_all_named(self, world, api):
        app = world.application(training=True)
        assess(world, app, scores={"viability": 5, "skills": 5, "commitment": 5})
        response = api(world.manager).post(
            f"/api/v1/applications/{app.pk}/transitions/approve/", {}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["rules"] == [
            {"code": "assessment_passes", "message": "Scores are missing for the criteria “Market”, “Need”."}
        ]

    def test_a_criterion_added_to_the_rubric_later_counts_as_missing(self, world):
        app = world.application(training=True)
        assess(world, app)
        RubricCriterion.objects.create(
            programme=world.programme,
            criterion="sustainability",
            label="Sustainability",
            weight=Decimal("0.10"),
        )
        with pytest.raises(RuleNotMet) as excinfo:
            approve(world, app)
        assert "Sustainability" in str(excinfo.value)

    @pytest.mark.parametrize(
        ("scores", "field"),
        [
            ({"viability": 6}, "scores"),
            ({"viability": 0}, "scores"),
            ({"viability": True}, "scores"),
            ({"viability": "5"}, "scores"),
            ({"charm": 5}, "scores"),
            ("five", "scores"),
        ],
    )
    def test_bad_scores_are_refused_and_nothing_is_saved(self, world, scores, field):
        app = world.application(training=True)
        with pytest.raises(ServiceError) as excinfo:
            assess(world, app, scores=scores)
        assert field in excinfo.value.details
        assert not Assessment.objects.exists()

    def test_reject_and_revise_need_reasons_and_a_site_visit_is_not_in_the_future(self, world):
        app = world.application(training=True)
        for recommendation in ("reject", "revise"):
            with pytest.raises(ServiceError) as excinfo:
                assess(world, app, recommendation=recommendation, reasons=" ")
            assert "reasons" in excinfo.value.details
        with pytest.raises(ServiceError) as excinfo:
            assess(world, app, site_visit_on=timezone.localdate() + datetime.timedelta(days=1))
        assert "site_visit_on" in excinfo.value.details
        with pytest.raises(ServiceError):
            assess(world, app, recommendation="maybe")
        assert not Assessment.objects.exists()

    def test_a_recommendation_to_reject_blocks_approval(self, world):
        app = world.application(training=True)
        assess(world, app, recommendation="reject", reasons="No premises.")
        with pytest.raises(RuleNotMet) as excinfo:
            approve(world, app)
        assert [code for code, _m in excinfo.value.rules] == ["assessment_recommends"]


class TestWhoAndWhen:
    def test_only_field_officers_of_the_centre_assess(self, world):
        app = world.application(training=True)
        with pytest.raises(NotVisible):
            assess(world, app, by=world.officer2)
        with pytest.raises(NotAllowed):
            assess(world, app, by=world.manager)
        with pytest.raises(NotAllowed):
            assess(world, app, by=world.applicant)
        assert not Assessment.objects.exists()

    def test_drafts_and_approved_grants_are_not_assessed(self, world):
        for app in (world.application(), world.application(approved=True)):
            before = app.assessments.count()
            with pytest.raises(Conflict):
                assess(world, app)
            assert app.assessments.count() == before


class TestHistory:
    def test_after_a_return_for_changes_a_second_assessment_keeps_the_first(self, world):
        app = world.application(submitted=True)
        first = assess(world, app, recommendation="revise", reasons="Add a supplier quote.")
        app = grant_services.take_transition(
            application=app, name="return_for_changes", by=world.officer, comment="Add a supplier quote."
        )
        app = grant_services.take_transition(application=app, name="submit", by=world.applicant)
        second = assess(world, app, by=world.colleague)

        history = list(assessment_history(app))
        assert [(a.pk, a.is_current, a.recommendation) for a in history] == [
            (second.pk, True, "approve"),
            (first.pk, False, "revise"),
        ]
        assert {s.criterion.criterion: s.score for s in history[1].scores.all()} == ALL
        assert app.current_assessment() == second
        assert [
            e.actor for e in AuditEvent.objects.filter(application=app, action="assessed").order_by("id")
        ] == [
            world.officer,
            world.colleague,
        ]

    def test_the_api_shows_the_current_assessment(self, world, api):
        app = world.application(training=True)
        assess(world, app, recommendation="revise", reasons="Too vague.")
        response = api(world.officer).post(
            f"/api/v1/applications/{app.pk}/assessment/",
            {"scores": ALL, "recommendation": "approve", "comment": "Better now."},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = api(world.officer).get(f"/api/v1/applications/{app.pk}/assessment/").json()
        assert (body["recommendation"], body["weighted_score"], body["scores"]) == ("approve", "3.35", ALL)
        assert app.assessments.count() == 2


class TestRubricAdmin:
    def test_the_programme_page_edits_its_rubric(self, world, client):
        admin_user = get_user_model().objects.create_superuser("root", "root@example.test", "x" * 12)
        verified_login(client, admin_user)
        response = client.get(f"/admin/grants/programme/{world.programme.pk}/change/")
        assert response.status_code == 200
        assert b"rubric-TOTAL_FORMS" in response.content
        assert b"Skills and experience" in response.content

    def test_the_rubric_form_checks_codes_weights_and_duplicates(self, world):
        admin_user = get_user_model().objects.create_superuser("root", "root@example.test", "x" * 12)
        request = RequestFactory().post("/")
        request.user = admin_user
        inline = RubricCriterionInline(Programme, admin.site)
        FormSet = inline.get_formset(request, world.programme)
        rubric = list(world.programme.rubric.order_by("position"))

        def data(rows):
            values = {
                "rubric-TOTAL_FORMS": str(len(rows)),
                "rubric-INITIAL_FORMS": str(len(rubric)),
                "rubric-MIN_NUM_FORMS": "1",
                "rubric-MAX_NUM_FORMS": "1000",
            }
            for i, row in enumerate(rows):
                for key, value in row.items():
                    values[f"rubric-{i}-{key}"] = value
                values[f"rubric-{i}-programme"] = str(world.programme.pk)
            return values

        existing = [
            {
                "id": str(c.pk),
                "position": str(c.position),
                "criterion": c.criterion,
                "label": c.label,
                "weight": str(c.weight),
            }
            for c in rubric
        ]
        changed = [dict(row) for row in existing]
        changed[0]["weight"] = "0.40"
        formset = FormSet(data(changed), instance=world.programme, prefix="rubric")
        assert formset.is_valid(), formset.errors
        formset.save()
        assert world.programme.rubric.get(criterion="viability").weight == Decimal("0.40")

        bad = [dict(row) for row in existing]
        bad[1]["criterion"] = "Skills & experience"
        bad[2]["weight"] = "0"
        formset = FormSet(data(bad), instance=world.programme, prefix="rubric")
        assert not formset.is_valid()
        assert "criterion" in formset.forms[1].errors
        assert "weight" in formset.forms[2].errors

        twice = [dict(row) for row in existing]
        twice[1]["criterion"] = "viability"
        formset = FormSet(data(twice), instance=world.programme, prefix="rubric")
        assert not formset.is_valid()
        assert world.programme.rubric.filter(criterion="skills").exists()
