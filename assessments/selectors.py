"""Shared reads of cohorts, assessments and visits, filtered by permission in the database."""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from applicants import roles
from applicants.selectors import centre_ids_query
from grants.selectors import applications_for

from .models import Assessment, MonitoringVisit, TrainingCohort, TrainingSession


def cohorts_for(user):
    if not user.is_authenticated or not roles.is_staff_member(user):
        return TrainingCohort.objects.none()
    if not user.has_perm("assessments.view_trainingcohort"):
        return TrainingCohort.objects.none()
    return (
        TrainingCohort.objects.filter(centre_id__in=centre_ids_query(user))
        .annotate(enrolled_count=Count("enrolments", filter=Q(enrolments__active=True)))
        .prefetch_related(Prefetch("sessions", queryset=TrainingSession.objects.order_by("date", "id")))
        .order_by("-created_at", "-id")
    )


def current_assessment(application):
    return (
        Assessment.objects.filter(application=application, is_current=True)
        .select_related("assessor")
        .prefetch_related("scores__criterion")
        .first()
    )


def visits_for(user):
    return MonitoringVisit.objects.filter(application__in=applications_for(user))


def due_visits(user, *, within_days=7):
    today = timezone.localdate()
    return (
        visits_for(user)
        .filter(visited_on__isnull=True, due_on__lte=today + timezone.timedelta(days=within_days))
        .select_related("application__applicant", "application__centre")
        .order_by("due_on", "id")
    )


def attendance_sheet(cohort):
    """Rows (enrolment, {session_id: present}) for the cohort's active enrolments:
    three queries whatever the size of the cohort."""
    sessions = list(cohort.sessions.order_by("date", "id"))
    enrolments = list(
        cohort.enrolments.filter(active=True)
        .select_related("application__applicant", "application__programme")
        .prefetch_related("attendance")
        .order_by("application__applicant__last_name", "id")
    )
    threshold = cohort.programme.training_threshold
    rows = []
    for enrolment in enrolments:
        marks = {a.session_id: a.present for a in enrolment.attendance.all()}
        present = sum(1 for s in sessions if marks.get(s.pk))
        share = (present / len(sessions)) if sessions else 0
        rows.append(
            {
                "enrolment": enrolment,
                "application": enrolment.application,
                "marks": marks,
                "present": present,
                "share": share,
                "completed": bool(sessions) and share >= float(threshold),
            }
        )
    return sessions, rows
