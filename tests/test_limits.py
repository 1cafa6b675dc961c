"""Limits are validated once, from the model's fields: forms and serializers take them from
there, and a service given a longer text refuses it with a message and changes nothing
(nothing is ever cut)."""

import datetime

import pytest
from django.utils import timezone

from applicants.models import Applicant, DuplicateFlag
from applicants.services import DUPLICATE_COMMENT_MAX_LENGTH, decide_duplicate, register_applicant
from assessments import api as assessment_api
from assessments import forms as assessment_forms
from assessments.models import Assessment, MonitoringVisit, TrainingCohort
from assessments.services import create_cohort, record_assessment
from core.errors import ServiceError
from grants import api as grant_api
from grants import forms as grant_forms
from grants import services, transitions
from grants.models import MAX_QUANTITY, Delivery, EquipmentItem, GrantApplication, max_length
from tests.factories import DuplicateFlagFactory

pytestmark = pytest.mark.django_db


def refused_too_long(call):
    with pytest.raises(ServiceError) as refusal:
        call()
    assert refusal.value.code == "too_long"
    return refusal.value


class TestServicesRefuseInsteadOfCutting:
    def test_a_business_name_one_character_too_long_creates_nothing(self, world):
        limit = max_length(GrantApplication, "business_name")
        refusal = refused_too_long(
            lambda: services.create_application(
                by=world.officer,
                applicant=world.person,
                programme=world.programme,
                business_name="x" * (limit + 1),
                sector="crafts",
            )
        )
        assert f"At most {limit} characters" in str(refusal.message)
        assert "business_name" in refusal.details
        assert not GrantApplication.objects.exists()

    def test_a_business_name_at_the_limit_is_kept_whole(self, world):
        limit = max_length(GrantApplication, "business_name")
        application = services.create_application(
            by=world.officer,
            applicant=world.person,
            programme=world.programme,
            business_name="x" * limit,
            sector="crafts",
        )
        assert len(application.business_name) == limit

    def test_a_plan_text_too_long_leaves_the_draft_as_it_was(self, world):
        application = world.application()
        limit = max_length(GrantApplication, "market")
        refused_too_long(
            lambda: services.update_draft(
                application=application, by=world.officer, plan={"market": "m" * (limit + 1)}
            )
        )
        application.refresh_from_db()
        assert application.market == "Neighbours and the weekly market."

    def test_an_item_description_too_long_is_refused(self, world):
        application = world.application()
        items_before = list(application.items.values_list("description", "quantity"))
        limit = max_length(EquipmentItem, "description")
        refusal = refused_too_long(
            lambda: services.update_draft(
                application=application,
                by=world.officer,
                items=[{"description": "d" * (limit + 1), "quantity": 1, "unit_cost": "10.00"}],
            )
        )
        assert "items" in refusal.details
        assert list(application.items.values_list("description", "quantity")) == items_before

    def test_a_transition_comment_too_long_leaves_the_state(self, world):
        application = world.application(submitted=True)
        refused_too_long(
            lambda: services.take_transition(
                application=application,
                name="reject",
                by=world.officer,
                comment="r" * (transitions.COMMENT_MAX_LENGTH + 1),
            )
        )
        application.refresh_from_db()
        assert application.state == "submitted"

    def test_assessment_reasons_too_long_record_nothing(self, world):
        application = world.application(training=True)
        limit = max_length(Assessment, "reasons")
        refused_too_long(
            lambda: record_assessment(
                by=world.officer,
                application=application,
                scores={},
                recommendation="revise",
                reasons="r" * (limit + 1),
            )
        )
        assert not Assessment.objects.exists()

    def test_a_course_title_too_long_creates_no_course(self, world):
        limit = max_length(TrainingCohort, "title")
        refused_too_long(
            lambda: create_cohort(
                by=world.officer,
                programme=world.programme,
                centre=world.centre,
                title="t" * (limit + 1),
                session_dates=[timezone.localdate()],
            )
        )
        assert not TrainingCohort.objects.exists()

    def test_an_address_too_long_registers_nobody(self, world):
        limit = max_length(Applicant, "address")
        before = Applicant.objects.count()
        refused_too_long(
            lambda: register_applicant(
                by=world.officer,
                first_name="Ana",
                last_name="Kovač",
                date_of_birth=datetime.date(1990, 1, 1),
                centre=world.centre,
                target_groups=["returnee"],
                address="x" * (limit + 1),
                consent_given=True,
                special_consents=["return"],
            )
        )
        assert Applicant.objects.count() == before

    def test_a_duplicate_note_too_long_leaves_the_flag_undecided(self, world):
        flag = DuplicateFlagFactory(applicant=world.person)
        refused_too_long(
            lambda: decide_duplicate(
                flag=flag,
                decision=DuplicateFlag.Decision.SAME_PERSON,
                by=world.officer,
                comment="x" * (DUPLICATE_COMMENT_MAX_LENGTH + 1),
            )
        )
        flag.refresh_from_db()
        assert flag.decision == DuplicateFlag.Decision.PENDING


def test_forms_and_serializers_take_their_limits_from_the_model():
    limits = [
        (grant_forms.ApplicationForm.base_fields["business_name"], GrantApplication, "business_name"),
        (grant_forms.ApplicationForm.base_fields["activity"], GrantApplication, "activity"),
        (grant_forms.ItemForm.base_fields["description"], EquipmentItem, "description"),
        (grant_forms.DeliveryForm.base_fields["supplier"], Delivery, "supplier"),
        (grant_forms.DeliveryForm.base_fields["invoice_number"], Delivery, "invoice_number"),
        (grant_api.ApplicationCreateSerializer().fields["business_name"], GrantApplication, "business_name"),
        (grant_api.PlanSerializer().fields["market"], GrantApplication, "market"),
        (grant_api.ItemSerializer().fields["description"], EquipmentItem, "description"),
        (grant_api.DeliverySerializer().fields["supplier"], Delivery, "supplier"),
        (assessment_forms.AssessmentForm.base_fields["reasons"], Assessment, "reasons"),
        (assessment_forms.CohortForm.base_fields["title"], TrainingCohort, "title"),
        (assessment_forms.VisitForm.base_fields["notes"], MonitoringVisit, "notes"),
        (assessment_api.CohortCreateSerializer().fields["title"], TrainingCohort, "title"),
        (assessment_api.AssessmentInSerializer().fields["notes"], Assessment, "notes"),
        (assessment_api.VisitRecordSerializer().fields["notes"], MonitoringVisit, "notes"),
    ]
    for field, model, name in limits:
        assert field.max_length == max_length(model, name), (model.__name__, name)
    assert grant_forms.ItemForm.base_fields["quantity"].max_value == MAX_QUANTITY
    assert grant_api.ItemSerializer().fields["quantity"].max_value == MAX_QUANTITY
    assert grant_forms.TransitionForm.base_fields["comment"].max_length == transitions.COMMENT_MAX_LENGTH
