"""Writes of what field officers observe: cohorts, enrolment, attendance, assessments,
monitoring visits. Each checks that the officer works at the centre concerned."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from applicants import roles
from applicants.models import Applicant, Sex
from applicants.selectors import centre_ids
from audit import trail
from core.dates import add_months
from core.errors import Conflict, NotAllowed, NotVisible, ServiceError, checked_text
from core.money import parse_amount
from grants import documents, permissions, transitions
from grants.models import DocumentKind
from grants.workflow import State

from .models import (
    MAX_VISIT_PHOTOS,
    Assessment,
    AssessmentScore,
    Attendance,
    Enrolment,
    MonitoringVisit,
    SessionHeadcount,
    TrainingCohort,
    TrainingMeeting,
    TrainingSession,
    visit_in_window,
)
from .selectors import age_bands_of


def _officer_at(user, centre_id):
    if not roles.has_role(user, roles.FIELD_OFFICER):
        if centre_id in centre_ids(user):
            raise NotAllowed(_("Only field officers do this."))
        raise NotVisible()
    if centre_id not in centre_ids(user):
        raise NotVisible()


@transaction.atomic
def create_cohort(*, by, programme, centre, title, session_dates, hours=Decimal("3.0"), hours_on=None):
    """`hours_on`: the hours of the sessions that differ from `hours`, by date."""
    _officer_at(by, centre.pk)
    if not str(title).strip():
        raise ServiceError(_("Give the course a title."), details={"title": [_("Required.")]})
    session_dates = list(session_dates or [])
    if not session_dates:
        raise ServiceError(
            _("A course has at least one session."), details={"sessions": [_("Add the session dates.")]}
        )
    if len(set(session_dates)) != len(session_dates):
        raise ServiceError(
            _("Two sessions are on the same day."), details={"sessions": [_("One session per day.")]}
        )
    cohort = TrainingCohort.objects.create(
        programme=programme, centre=centre, title=checked_text(title, TrainingCohort._meta.get_field("title"))
    )
    TrainingSession.objects.bulk_create(
        [
            TrainingSession(cohort=cohort, date=d, hours=(hours_on or {}).get(d, hours))
            for d in sorted(session_dates)
        ]
    )
    trail.record(action="cohort_created", actor=by, data={"cohort": cohort.pk})
    return cohort


@transaction.atomic
def enrol(*, by, cohort, application):
    """Enrol an application in a cohort; an earlier enrolment elsewhere becomes inactive
    (moving between cohorts keeps the history)."""
    _officer_at(by, cohort.centre_id)
    if permissions.is_party(by, application):
        raise NotAllowed(_("You cannot act on your own application."))
    if application.centre_id != cohort.centre_id and application.centre_id not in centre_ids(by):
        raise NotVisible()
    if application.programme_id != cohort.programme_id:
        raise ServiceError(
            _("The cohort belongs to another programme."), details={"application": [_("Other programme.")]}
        )
    if application.state not in (State.SUBMITTED, State.BUSINESS_TRAINING):
        raise Conflict(
            _("Only submitted applications or those in training can be enrolled."), code="wrong_state"
        )
    current = Enrolment.objects.select_for_update().filter(application=application, active=True).first()
    if current is not None and current.cohort_id == cohort.pk:
        return current
    if current is not None:
        current.active = False
        current.save(update_fields=["active"])
    enrolment = Enrolment.objects.create(cohort=cohort, application=application)
    trail.record(
        action="enrolled",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "cohort": cohort.pk,
            "moved_from": current.cohort_id if current else None,
            "before": {"cohort": current.cohort_id} if current else None,
            "after": {"cohort": cohort.pk},
        },
    )
    return enrolment


@transaction.atomic
def enrol_applicant(*, by, cohort, applicant):
    """Enrol a registered person directly, without a grant application: training as a
    service of its own. The person is one of the officer's centres'; enrolling twice in
    the same cohort gives back the enrolment there is."""
    _officer_at(by, cohort.centre_id)
    if applicant.user_id is not None and applicant.user_id == by.pk:
        raise NotAllowed(_("You cannot enrol yourself."))
    if applicant.centre_id not in centre_ids(by):
        raise NotVisible()
    current = (
        Enrolment.objects.select_for_update().filter(cohort=cohort, applicant=applicant, active=True).first()
    )
    if current is not None:
        return current
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(cohort=cohort, applicant=applicant)
    except IntegrityError:
        raise Conflict(_("The person was enrolled meanwhile; reload the page.")) from None
    trail.record(
        action="enrolled",
        actor=by,
        applicant=applicant,
        data={"cohort": cohort.pk, "enrolment": enrolment.pk, "without_application": True},
    )
    return enrolment


def _active_enrolment(cohort, *, application, applicant):
    if application is not None:
        return Enrolment.objects.filter(cohort=cohort, application=application, active=True).first()
    return Enrolment.objects.filter(cohort=cohort, applicant=applicant, active=True).first()


@transaction.atomic
def record_attendance(*, by, session, present, application=None, applicant=None):
    """Mark one person present or absent at one session: enrolled through their
    `application`, or directly (`applicant`, no application). A correction replaces the
    mark and its audit event keeps the mark it replaced; the same mark again writes
    nothing.

    Only the active enrolment takes attendance: after a move to another cohort the old
    cohort's marks stay as they were, in history, and do not count for the new one."""
    if (application is None) == (applicant is None):
        raise ServiceError(
            _("Mark a person by their application or, enrolled without one, by themselves."),
            details={"application": [_("Give the application or the applicant.")]},
        )
    cohort = session.cohort
    _officer_at(by, cohort.centre_id)
    person = application.applicant if application is not None else applicant
    if (
        person.user_id is not None
        and person.user_id == by.pk
        or (application is not None and permissions.is_party(by, application))
    ):
        raise NotAllowed(_("You cannot act on your own application."))
    if session.date > timezone.localdate():
        raise ServiceError(
            _("Attendance is recorded on or after the day of the session."),
            details={"session": [_("This session has not taken place yet.")]},
        )
    enrolment = _active_enrolment(cohort, application=application, applicant=applicant)
    if enrolment is None:
        field = "application" if application is not None else "applicant"
        raise ServiceError(
            _("This person is not enrolled in the session's cohort."),
            details={field: [_("Not enrolled in this cohort.")]},
        )
    present = bool(present)
    attendance = Attendance.objects.select_for_update().filter(session=session, enrolment=enrolment).first()
    before = None if attendance is None else attendance.present
    if before == present:
        return attendance
    if attendance is None:
        attendance = Attendance(session=session, enrolment=enrolment, cohort=cohort)
    attendance.present, attendance.recorded_by = present, by
    try:
        with transaction.atomic():
            attendance.save()
    except IntegrityError:
        raise Conflict(_("Someone else recorded this attendance meanwhile; reload and check it.")) from None
    # Attendance decides approval: a corrected mark keeps the old one in the trail.
    trail.record(
        action="attendance_recorded",
        actor=by,
        application=application,
        applicant=applicant,
        from_state=application.state if application is not None else "",
        to_state=application.state if application is not None else "",
        data={
            "session": session.pk,
            "date": session.date.isoformat(),
            "enrolment": enrolment.pk,
            "before": None if before is None else {"present": before},
            "after": {"present": present},
        },
    )
    return attendance


MAX_MARKS_AT_ONCE = 200


@transaction.atomic
def record_attendance_sheet(*, by, session, marks):
    """Mark many people at one session at once (an officer's sheet, a field app's sync):
    each mark as `record_attendance` makes it, and all of them or none. `marks` is a list
    of (application, or applicant enrolled without one, or None when the caller may not
    see it; present); a refused mark
    names its place in the list and nothing is saved. A mark the caller may not make at
    all (not an officer of the centre, their own application) refuses the sheet (403)."""
    if len(marks) > MAX_MARKS_AT_ONCE:
        raise ServiceError(
            _("At most %(count)d marks at once.") % {"count": MAX_MARKS_AT_ONCE},
            details={"records": [_("Too many.")]},
        )
    problems = []
    for index, (person, present) in enumerate(marks):
        try:
            if person is None:
                raise NotVisible
            who = {"applicant": person} if isinstance(person, Applicant) else {"application": person}
            with transaction.atomic():
                record_attendance(by=by, session=session, present=present, **who)
        except NotVisible:
            problems.append(_("Mark %(number)d: no such application.") % {"number": index + 1})
        except ServiceError as refused:
            problems.append(
                _("Mark %(number)d: %(reason)s") % {"number": index + 1, "reason": refused.message}
            )
    if problems:
        raise ServiceError(
            _("No mark was saved: correct the marks listed and send the sheet again."),
            details={"records": problems},
        )


@transaction.atomic
def record_assessment(*, by, application, scores, recommendation, reasons="", site_visit_on=None, notes=""):
    """A new assessment becomes current; an earlier one stays in history."""
    decision = permissions.can_view_application(by, application)
    if not decision:
        raise NotVisible()
    if not roles.has_role(by, roles.FIELD_OFFICER) or not by.has_perm("assessments.add_assessment"):
        raise NotAllowed(_("Only field officers assess applications."))
    if permissions.is_party(by, application):
        raise NotAllowed(_("You cannot act on your own application."))
    if application.state not in (State.SUBMITTED, State.BUSINESS_TRAINING):
        raise Conflict(_("Applications are assessed while submitted or in training."), code="wrong_state")
    if recommendation not in Assessment.Recommendation.values:
        raise ServiceError(
            _("The recommendation is approve, reject or revise."),
            details={"recommendation": [_("Choose approve, reject or revise.")]},
        )
    if recommendation != Assessment.Recommendation.APPROVE and not str(reasons or "").strip():
        raise ServiceError(
            _("Give the reasons for recommending rejection or revision."),
            details={"reasons": [_("Required for reject and revise.")]},
        )
    if site_visit_on and site_visit_on > timezone.localdate():
        raise ServiceError(
            _("The site visit cannot be in the future."), details={"site_visit_on": [_("In the future.")]}
        )
    rubric = {c.criterion: c for c in application.programme.rubric.all()}
    if not isinstance(scores, dict):
        raise ServiceError(
            _("Scores are given per criterion."), details={"scores": [_("Give a score per criterion.")]}
        )
    unknown = set(scores) - set(rubric)
    if unknown:
        raise ServiceError(
            _("Unknown criteria: %(names)s.") % {"names": ", ".join(sorted(map(str, unknown)))},
            details={"scores": [_("Unknown criterion.")]},
        )
    clean = {}
    for code, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ServiceError(
                _("Scores are whole numbers from 1 to 5 (%(criterion)s).") % {"criterion": code},
                details={"scores": [_("Scores are whole numbers from 1 to 5.")]},
            )
        clean[code] = value
    previous = (
        Assessment.objects.filter(application=application, is_current=True)
        .values("pk", "recommendation", "weighted_score")
        .first()
    )
    Assessment.objects.filter(application=application, is_current=True).update(is_current=False)
    assessment = Assessment.objects.create(
        application=application,
        assessor=by,
        site_visit_on=site_visit_on,
        notes=checked_text(notes, Assessment._meta.get_field("notes")),
        recommendation=recommendation,
        reasons=checked_text(reasons, Assessment._meta.get_field("reasons")),
    )
    AssessmentScore.objects.bulk_create(
        [AssessmentScore(assessment=assessment, criterion=rubric[c], score=v) for c, v in clean.items()]
    )
    assessment.weighted_score = assessment.compute_weighted_score()
    assessment.complete = assessment.weighted_score is not None
    if assessment.weighted_score is None and clean:
        total_weight = sum(rubric[c].weight for c in clean)
        partial = sum(rubric[c].weight * v for c, v in clean.items()) / total_weight
        assessment.weighted_score = partial.quantize(Decimal("0.01"))
    assessment.save(update_fields=["weighted_score", "complete"])
    trail.record(
        action="assessed",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=assessment.reasons,
        data={
            "recommendation": recommendation,
            "score": str(assessment.weighted_score),
            # The assessment this one replaces as current; it stays in history.
            "before": None
            if previous is None
            else {
                "assessment": previous["pk"],
                "recommendation": previous["recommendation"],
                "score": str(previous["weighted_score"]),
            },
            "after": {"assessment": assessment.pk},
        },
    )
    return assessment


def visit_dates(start, months):
    """Due dates `months` after `start`, each clamped to the month's end (delivered on
    31 August: the 6-month visit is due on 28 or 29 February)."""
    return [(m, add_months(start, m)) for m in months]


def schedule_visits(*, application):
    """Monitoring visits at the programme's months after the (last) delivery; 3, 6 and
    12 unless the programme says otherwise."""
    last = application.deliveries.order_by("-delivered_on").first()
    start = last.delivered_on if last else timezone.localdate()
    try:
        months = sorted({int(m) for m in application.programme.visit_months or [3, 6, 12]})
    except (TypeError, ValueError):
        months = []
    if not months or months[0] < 1 or months[-1] > 120:
        raise ServiceError(
            _("The programme's visit months must be whole numbers from 1 to 120; ask its manager.")
        )
    try:
        with transaction.atomic():
            MonitoringVisit.objects.bulk_create(
                [
                    MonitoringVisit(application=application, months=m, due_on=due)
                    for m, due in visit_dates(start, months)
                ]
            )
    except IntegrityError:
        raise Conflict(_("Visits are already scheduled.")) from None


def close_unmade_visits(*, application):
    """The grant ended (discontinued, completed): the visits not made are no longer owed
    from today. They stay on record; reminders, the visits due and the overdue flags
    only ever look at visits still owed."""
    MonitoringVisit.objects.filter(
        application=application, visited_on__isnull=True, closed_on__isnull=True
    ).update(closed_on=timezone.localdate(), updated_at=timezone.now())


@transitions.after("start_follow_up")
def _plan_visits(*, application, by, comment):
    schedule_visits(application=application)


@transitions.after("discontinue")
@transitions.after("complete")
def _stop_owing_visits(*, application, by, comment):
    close_unmade_visits(application=application)


# What a visit found, kept before and after in the audit event when a visit is recorded
# again (the notes are free text: the event says only that they changed).
VISIT_FACTS = [
    "visited_on",
    "operating",
    "equipment_in_use",
    "monthly_revenue",
    "jobs_owner",
    "jobs_family",
    "jobs_employees",
]


def check_visit_request_size(content_length):
    """Refuse, before reading it, a visit's request body larger than its photos may be."""
    try:
        length = int(content_length or 0)
    except ValueError:
        length = 0
    limit = MAX_VISIT_PHOTOS * documents.max_bytes(DocumentKind.PHOTO)
    if length > limit + 64 * 1024:
        raise documents.UploadTooLarge(
            _("The photos of one visit may be at most %(limit)s in all.")
            % {"limit": documents.human_size(limit)},
            code="too_large",
        )


def _too_early(visit):
    opens = visit.window_opens
    return ServiceError(
        ngettext(
            "This %(months)s-month visit is due on %(due)s; it can be recorded from %(opens)s.",
            "This %(months)s-month visit is due on %(due)s; it can be recorded from %(opens)s.",
            visit.months,
        )
        % {
            "months": visit.months,
            "due": formats.date_format(visit.due_on),
            "opens": formats.date_format(opens),
        },
        code="visit_too_early",
        details={"visited_on": [_("Too early: from %(date)s.") % {"date": formats.date_format(opens)}]},
    )


@transaction.atomic
def record_visit(
    *,
    by,
    visit,
    visited_on,
    operating,
    equipment_in_use,
    monthly_revenue=None,
    jobs=None,
    notes="",
    photos=(),
):
    """Record (or correct) what a monitoring visit found, with its photos. A visit dated
    more than VISIT_EARLY_MARGIN_DAYS before it is due is refused, saying from when it
    can be recorded. Nothing is kept when anything is refused, a photo included (its
    stored file, if any, is an orphan that `sweep_orphans` removes)."""
    visit = MonitoringVisit.objects.select_for_update().select_related("application").get(pk=visit.pk)
    application = visit.application
    if not permissions.can_view_application(by, application):
        raise NotVisible()
    if not roles.has_role(by, roles.FIELD_OFFICER):
        raise NotAllowed(_("Only field officers record visits."))
    if permissions.is_party(by, application):
        raise NotAllowed(_("You cannot act on your own application."))
    if application.state != State.FOLLOW_UP:
        raise Conflict(_("Visits are recorded during follow-up."), code="wrong_state")
    if visited_on > timezone.localdate():
        raise ServiceError(
            _("A visit cannot be dated in the future."), details={"visited_on": [_("In the future.")]}
        )
    first_delivery = (
        application.deliveries.order_by("delivered_on").values_list("delivered_on", flat=True).first()
    )
    if first_delivery is not None and visited_on < first_delivery:
        raise ServiceError(
            _("A monitoring visit comes after the equipment was delivered (%(date)s).")
            % {"date": first_delivery.isoformat()},
            details={"visited_on": [_("Before the delivery.")]},
        )
    if not visit_in_window(visited_on, visit.due_on):
        raise _too_early(visit)
    photos = list(photos or [])
    if len(photos) > MAX_VISIT_PHOTOS:
        raise ServiceError(
            _("At most %(count)s photos per visit.") % {"count": MAX_VISIT_PHOTOS},
            code="too_many_photos",
            details={"photos": [_("At most %(count)s photos.") % {"count": MAX_VISIT_PHOTOS}]},
        )
    jobs = jobs or {}
    if isinstance(jobs, int):
        jobs = {"owner": jobs}
    try:
        counts = {k: int(jobs.get(k, 0) or 0) for k in ("owner", "family", "employees")}
    except (TypeError, ValueError, AttributeError):
        raise ServiceError(_("Jobs are whole numbers."), details={"jobs": [_("Whole numbers.")]}) from None
    if any(v < 0 or v > 1000 for v in counts.values()):
        raise ServiceError(_("Jobs are whole numbers."), details={"jobs": [_("Whole numbers.")]})
    before = trail.snapshot(visit, VISIT_FACTS) if visit.visited_on is not None else None
    old_notes = visit.notes
    visit.visited_on = visited_on
    visit.operating = bool(operating)
    visit.equipment_in_use = bool(equipment_in_use)
    visit.monthly_revenue = (
        None if monthly_revenue in (None, "") else parse_amount(monthly_revenue, "monthly_revenue")
    )
    visit.jobs_owner, visit.jobs_family, visit.jobs_employees = (
        counts["owner"],
        counts["family"],
        counts["employees"],
    )
    visit.notes = checked_text(notes, MonitoringVisit._meta.get_field("notes"))
    visit.recorded_by = by
    visit.recorded_at = timezone.now()
    visit.save()
    added = [
        documents.upload_document(
            application=application, by=by, kind=DocumentKind.PHOTO, uploaded_file=photo
        )
        for photo in photos
    ]
    trail.record(
        action="visit_recorded",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "visit": visit.pk,
            "months": visit.months,
            "operating": visit.operating,
            **(trail.changes(before, trail.snapshot(visit, VISIT_FACTS)) or {}),
            "text_changed": ["notes"] if visit.notes != old_notes else [],
            **({"photos": [document.pk for document in added]} if added else {}),
        },
    )
    return visit


# ---- training as its own service: headcounts and meetings ---------------------------------

MAX_COUNT = 1000


def _count(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ServiceError(
            _("Give a whole number from 0 to %(max)d.") % {"max": MAX_COUNT},
            details={field: [_("A whole number from 0 to %(max)d.") % {"max": MAX_COUNT}]},
        )
    return value


@transaction.atomic
def record_headcount(*, by, session, counts, total=None):
    """The participants of `session` counted without personal data, where the cohort's
    programme allows it: `counts` is {(sex, age band): number} (blank: not recorded);
    it replaces the session's earlier headcount, whose total the audit event keeps.
    `total`, when given (the number counted at the door), must be the counts' sum."""
    cohort = session.cohort
    _officer_at(by, cohort.centre_id)
    if not cohort.programme.anonymous_training:
        raise Conflict(
            _("This programme counts only registered participants; enrol them by name."),
            code="no_anonymous_training",
        )
    if session.date > timezone.localdate():
        raise ServiceError(
            _("Participants are counted on or after the day of the session."),
            details={"session": [_("This session has not taken place yet.")]},
        )
    bands = {key for key, _label in age_bands_of(cohort.programme)}
    rows = []
    for (sex, band), number in dict(counts or {}).items():
        if sex not in ("", *Sex.values):
            raise ServiceError(_("Unknown sex."), details={"sex": [_("Choose one of the values listed.")]})
        if band not in ("", *bands):
            raise ServiceError(
                _("Unknown age band."), details={"age_band": [_("Choose one of the bands listed.")]}
            )
        if _count(number, "count"):
            rows.append(
                SessionHeadcount(session=session, sex=sex, age_band=band, count=number, recorded_by=by)
            )
    if total is not None and _count(total, "total") != sum(r.count for r in rows):
        raise ServiceError(
            _("The counts add up to %(sum)d, not to the %(total)d participants in all.")
            % {"sum": sum(r.count for r in rows), "total": total},
            details={"total": [_("Give the sum of the counts, or leave it empty.")]},
        )
    before = sum(session.headcounts.values_list("count", flat=True))
    session.headcounts.all().delete()
    SessionHeadcount.objects.bulk_create(rows)
    trail.record(
        action="headcount_recorded",
        actor=by,
        data={
            "cohort": cohort.pk,
            "session": session.pk,
            "before": {"total": before},
            "after": {"total": sum(r.count for r in rows)},
        },
    )
    return rows


@transaction.atomic
def record_meeting(*, by, programme, centre, held_on, kind, participants):
    """A business training or network meeting held: when, what kind, how many came."""
    _officer_at(by, centre.pk)
    if kind not in TrainingMeeting.Kind.values:
        raise ServiceError(
            _("Unknown kind of meeting."), details={"kind": [_("Choose one of the kinds listed.")]}
        )
    if held_on > timezone.localdate():
        raise ServiceError(
            _("A meeting is recorded once it has been held."), details={"held_on": [_("In the future.")]}
        )
    meeting = TrainingMeeting.objects.create(
        programme=programme,
        centre=centre,
        held_on=held_on,
        kind=kind,
        participants=_count(participants, "participants"),
        recorded_by=by,
    )
    trail.record(
        action="meeting_recorded",
        actor=by,
        data={"meeting": meeting.pk, "kind": kind, "participants": meeting.participants},
    )
    return meeting
