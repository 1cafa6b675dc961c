"""The field pack: what a field officer's phone keeps to work without signal
(docs/design.md "Offline field work"). Only what the offline forms need: the visits
owed in the coming weeks, the active cohorts with their people, sessions and marks, and
the choices of the registration form. No sensitive fact (applicants.sensitivity), no
document, no address: a lost phone gives away names of businesses and people, and for
FIELD_PACK_DAYS at most."""

import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from applicants import roles
from applicants.models import IntegrationCentre, Sex, TargetGroup
from applicants.selectors import centre_scope
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
                queryset=Enrolment.objects.filter(active=True)
                .select_related("application__applicant")
                .order_by("application__applicant__last_name", "application__applicant__first_name", "id"),
                to_attr="active_enrolments",
            )
        )
    )
    cohorts = list(cohorts)
    marks = Attendance.objects.filter(cohort__in=[c.pk for c in cohorts], enrolment__active=True).values_list(
        "session_id", "enrolment__application_id", "present"
    )
    marks_by_cohort = {}
    session_cohort = dict(
        TrainingSession.objects.filter(cohort__in=[c.pk for c in cohorts]).values_list("id", "cohort_id")
    )
    for session_id, application_id, present in marks:
        marks_by_cohort.setdefault(session_cohort[session_id], []).append(
            {"session": session_id, "application": application_id, "present": present}
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
                # (people enrolled without an application are marked online for now: the
                # offline attendance names an application)
                "people": [
                    {"application": e.application_id, "name": _person(e.application.applicant)}
                    for e in c.active_enrolments
                    if e.application_id is not None
                ],
                "marks": marks_by_cohort.get(c.pk, []),
            }
            for c in cohorts
        ],
        "programmes": [{"id": p.pk, "name": p.name, "country": p.country.code} for p in programmes],
        "sectors": [{"value": value, "label": str(label)} for value, label in Sector.choices],
        "target_groups": [{"value": value, "label": str(label)} for value, label in TargetGroup.choices],
        "sexes": [{"value": value, "label": str(label)} for value, label in Sex.choices],
    }
