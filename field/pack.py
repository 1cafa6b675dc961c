"""The field pack: what a field officer's phone keeps to work without signal
(docs/design.md "Offline field work"). Only what the offline forms need: the visits
owed in the coming weeks, the active cohorts with their people (enrolled through an
application, or directly: training as a service of its own), sessions and marks, and
the choices of the registration form. No sensitive fact (applicants.sensitivity), no
document, no address: a lost phone gives away names of businesses and people, and for
FIELD_PACK_DAYS at most."""

import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from applicants import roles
from applicants.models import IntegrationCentre, Sex, TargetGroup
from applicants.selectors import applicants_for, centre_scope
from assessments import selectors as assessment_selectors
from assessments.models import Attendance, Enrolment, TrainingSession
from grants.models import Sector
from grants.selectors import programmes_for

# Visits due up to this many days ahead travel in the pack (overdue ones too).
VISITS_AHEAD_DAYS = 28
# A cohort is in the pack while it has a session from this many days ago onwards.
COHORT_RECENT_DAYS = 14


def pack_days():
    return settings.FIELD_PACK_DAYS


def may_use_field_pack(user):
    return user.is_authenticated and roles.has_role(user, roles.FIELD_OFFICER)


def _person(applicant):
    return f"{applicant.first_name} {applicant.last_name}".strip()


def field_pack(user, *, now=None):
    """The pack as plain data, in a bounded number of queries whatever its size."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    centres = list(
        IntegrationCentre.objects.filter(pk__in=centre_scope(user)).select_related("country").order_by("name")
    )
    visits = assessment_selectors.due_visits(user, within_days=VISITS_AHEAD_DAYS, today=today)
    recent = today - datetime.timedelta(days=COHORT_RECENT_DAYS)
    cohorts = (
        assessment_selectors.cohorts_for(user)
        .filter(sessions__date__gte=recent)
        .distinct()
        .prefetch_related(
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.filter(active=True, application__isnull=False)
                .select_related("application__applicant")
                .order_by("application__applicant__last_name", "application__applicant__first_name", "id"),
                to_attr="active_enrolments",
            ),
            # People enrolled without an application: only those whose record the
            # officer may open (their centre's), as the sync asks again.
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.filter(
                    active=True, application__isnull=True, applicant__in=applicants_for(user)
                )
                .select_related("applicant")
                .order_by("applicant__last_name", "applicant__first_name", "id"),
                to_attr="direct_enrolments",
            ),
        )
    )
    cohorts = list(cohorts)
    direct_people = {(c.pk, e.applicant_id) for c in cohorts for e in c.direct_enrolments}
    marks = Attendance.objects.filter(cohort__in=[c.pk for c in cohorts], enrolment__active=True).values_list(
        "session_id", "enrolment__application_id", "enrolment__applicant_id", "present"
    )
    marks_by_cohort, direct_marks_by_cohort = {}, {}
    session_cohort = dict(
        TrainingSession.objects.filter(cohort__in=[c.pk for c in cohorts]).values_list("id", "cohort_id")
    )
    for session_id, application_id, applicant_id, present in marks:
        cohort_id = session_cohort[session_id]
        if application_id is not None:
            marks_by_cohort.setdefault(cohort_id, []).append(
                {"session": session_id, "application": application_id, "present": present}
            )
        elif (cohort_id, applicant_id) in direct_people:
            direct_marks_by_cohort.setdefault(cohort_id, []).append(
                {"session": session_id, "applicant": applicant_id, "present": present}
            )
    programmes = programmes_for(user).order_by("name", "id")
    return {
        "issued_at": now,
        "expires_at": now + datetime.timedelta(days=pack_days()),
        "days": pack_days(),
        "user": {"id": user.pk, "name": user.get_full_name() or user.get_username()},
        "centres": [{"id": c.pk, "name": c.name, "country": c.country.code} for c in centres],
        "visits": [
            {
                "id": v.pk,
                "application": v.application_id,
                "business_name": v.application.business_name,
                "person": _person(v.application.applicant),
                "centre": v.application.centre_id,
                "months": v.months,
                "due_on": v.due_on,
                "window_opens": v.window_opens,
            }
            for v in visits
        ],
        "cohorts": [
            {
                "id": c.pk,
                "title": c.title,
                "centre": c.centre_id,
                "programme": c.programme_id,
                "sessions": [{"id": s.pk, "date": s.date} for s in c.sessions.all()],
                "people": [
                    {"application": e.application_id, "name": _person(e.application.applicant)}
                    for e in c.active_enrolments
                ],
                "marks": marks_by_cohort.get(c.pk, []),
                # Enrolled without an application: the mark names the person.
                "direct_people": [
                    {"applicant": e.applicant_id, "name": _person(e.applicant)} for e in c.direct_enrolments
                ],
                "direct_marks": direct_marks_by_cohort.get(c.pk, []),
            }
            for c in cohorts
        ],
        "programmes": [{"id": p.pk, "name": p.name, "country": p.country.code} for p in programmes],
        "sectors": [{"value": value, "label": str(label)} for value, label in Sector.choices],
        "target_groups": [{"value": value, "label": str(label)} for value, label in TargetGroup.choices],
        "sexes": [{"value": value, "label": str(label)} for value, label in Sex.choices],
    }
