"""Items captured on a field officer's phone without signal, applied when it syncs
(docs/design.md "Offline field work"). Each item is applied by the service that
applies the same thing online (assessments.services.record_visit and
record_attendance, for a person enrolled through an application or directly,
applicants.services.register_applicant,
grants.services.applications.create_application): no rule is written twice here.

This module adds what offline capture needs on top of them: the capture time checked
(not in the future, not older than FIELD_PACK_DAYS), an item already received
answered as such (the device's item id, besides the Idempotency-Key the item is sent
with), and a conflict instead of an overwrite when the server's record moved on since
the field pack was taken (a colleague recorded the visit or the mark, the application
left follow-up). Every item applied leaves a `field_item_synced` audit event with the
capture time and the sync time."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants.models import IntegrationCentre
from applicants.selectors import applicants_for
from applicants.services import register_applicant
from assessments import selectors as assessment_selectors
from assessments.models import Attendance, Enrolment, MonitoringVisit, TrainingSession
from assessments.services import record_attendance, record_visit
from audit import trail
from audit.models import AuditEvent
from core.errors import Conflict, NotAllowed, NotVisible, ServiceError
from grants.selectors import applications_for, programmes_for
from grants.services.applications import create_application

CREATED = "created"
ALREADY_RECEIVED = "already_received"
REFUSED = "refused"
CONFLICT = "conflict"
OUTCOMES = (CREATED, ALREADY_RECEIVED, REFUSED, CONFLICT)

VISIT, ATTENDANCE, REGISTRATION = "visit", "attendance", "registration"
KINDS = (VISIT, ATTENDANCE, REGISTRATION)

SYNCED_ACTION = "field_item_synced"
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass
class Answer:
    outcome: str
    status: int
    detail: str
    code: str = ""
    errors: dict = field(default_factory=dict)
    record: dict | None = None


def check_captured_at(captured_at, *, now):
    """ServiceError unless the capture time could be true: not in the future, not older
    than the field pack may be."""
    if captured_at > now + CLOCK_SKEW:
        message = _("The phone says this was captured in the future; check the phone's date and time.")
        raise ServiceError(message, code="captured_in_future", details={"captured_at": [message]})
    if captured_at < now - datetime.timedelta(days=settings.FIELD_PACK_DAYS):
        message = _("This was captured more than %(days)d days ago; enter it again from paper.") % {
            "days": settings.FIELD_PACK_DAYS
        }
        raise ServiceError(message, code="captured_too_long_ago", details={"captured_at": [message]})


def visit_version(visit):
    """The server's version of a visit, as the phone shows it beside its own."""
    return {
        "kind": VISIT,
        "id": visit.pk,
        "application": visit.application_id,
        "state": visit.application.state,
        "visited_on": visit.visited_on,
        "operating": visit.operating,
        "equipment_in_use": visit.equipment_in_use,
        "monthly_revenue": visit.monthly_revenue,
        "jobs_owner": visit.jobs_owner,
        "jobs_family": visit.jobs_family,
        "jobs_employees": visit.jobs_employees,
        "notes": visit.notes,
        "recorded_by": _name(visit.recorded_by),
        "recorded_at": visit.recorded_at,
    }


def attendance_version(mark, session, application=None, applicant=None):
    """The server's version of a mark: of an application's enrolment, or (`applicant`)
    of a person enrolled without one."""
    version = {"kind": ATTENDANCE, "id": getattr(mark, "pk", None)}
    if application is not None:
        version.update(application=application.pk, state=application.state)
    else:
        version["applicant"] = applicant.pk
    version.update(
        session=session.pk,
        present=None if mark is None else mark.present,
        recorded_by=None if mark is None else _name(mark.recorded_by),
        recorded_at=None if mark is None else mark.recorded_at,
    )
    return version


def _name(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _already_received(by, item_id):
    event = (
        AuditEvent.objects.filter(action=SYNCED_ACTION, actor=by, data__device_item=str(item_id))
        .only("data")
        .first()
    )
    if event is None:
        return None
    return Answer(
        ALREADY_RECEIVED,
        200,
        _("Already received on %(date)s.") % {"date": event.data.get("synced_at", "")},
        record={"kind": event.data.get("kind"), "id": event.data.get("record")},
    )


def sync_item(*, by, item_id, kind, captured_at, data, photos=(), now=None):
    """Apply one item from the phone; an Answer in every case but a server failure."""
    now = now or timezone.now()
    received = _already_received(by, item_id)
    if received is not None:
        return received
    try:
        check_captured_at(captured_at, now=now)
        with transaction.atomic():
            record, application, applicant = APPLY[kind](by=by, data=data, photos=photos)
            trail.record(
                action=SYNCED_ACTION,
                actor=by,
                application=application,
                applicant=applicant,
                data={
                    "device_item": str(item_id),
                    "kind": kind,
                    "record": record["id"],
                    "captured_at": captured_at.isoformat(),
                    "synced_at": now.isoformat(),
                },
            )
    except ConflictWithServer as conflict:
        return Answer(CONFLICT, 409, str(conflict.message), code=conflict.code, record=conflict.server)
    except NotVisible:
        return Answer(REFUSED, 404, _("Not found, or not one of your centres' records."), code="not_found")
    except NotAllowed as refused:
        return Answer(REFUSED, 403, str(refused.reason), code="not_allowed")
    except ServiceError as refused:
        errors = {key: [str(m) for m in messages] for key, messages in refused.details.items()}
        return Answer(REFUSED, 400, str(refused.message), code=refused.code, errors=errors)
    return Answer(CREATED, 201, _("Received."), record=record)


class ConflictWithServer(Conflict):
    """The server's record moved on since the pack was taken: `server` is its version."""

    def __init__(self, message, *, server, code="conflict"):
        super().__init__(message, code=code)
        self.server = server


def apply_visit(*, by, data, photos):
    visit = (
        assessment_selectors.visits_for(by)
        .select_for_update(of=("self",))
        .select_related("application", "recorded_by")
        .filter(pk=data["visit"])
        .first()
    )
    if visit is None:
        raise NotVisible()
    known = data.get("known_recorded_at")
    if visit.recorded_at is not None and (
        known is None or abs(visit.recorded_at - known) > datetime.timedelta(seconds=1)
    ):
        raise ConflictWithServer(
            _("This visit was recorded by %(name)s meanwhile. Compare, then keep one.")
            % {"name": _name(visit.recorded_by) or _("someone else")},
            code="recorded_meanwhile",
            server=visit_version(visit),
        )
    try:
        visit = record_visit(
            by=by,
            visit=visit,
            visited_on=data["visited_on"],
            operating=data["operating"],
            equipment_in_use=data["equipment_in_use"],
            monthly_revenue=data.get("monthly_revenue"),
            jobs={
                "owner": data.get("jobs_owner", 0),
                "family": data.get("jobs_family", 0),
                "employees": data.get("jobs_employees", 0),
            },
            notes=data.get("notes", ""),
            photos=photos,
        )
    except Conflict as moved:
        visit = MonitoringVisit.objects.select_related("application", "recorded_by").get(pk=visit.pk)
        raise ConflictWithServer(moved.message, code=moved.code, server=visit_version(visit)) from None
    version = visit_version(visit)
    version["photos"] = len(photos)
    return version, visit.application, None


def _person_of(by, data):
    """(application, applicant) named by the item, one of them None; NotVisible unless
    the officer may open it."""
    if data.get("application") is not None:
        application = applications_for(by).filter(pk=data["application"]).first()
        if application is None:
            raise NotVisible()
        return application, None
    applicant = applicants_for(by).filter(pk=data["applicant"]).first()
    if applicant is None:
        raise NotVisible()
    return None, applicant


def apply_attendance(*, by, data, photos):
    session = (
        TrainingSession.objects.filter(cohort__in=assessment_selectors.cohorts_for(by).values("pk"))
        .select_related("cohort")
        .filter(pk=data["session"])
        .first()
    )
    if session is None:
        raise NotVisible()
    application, applicant = _person_of(by, data)
    if application is not None:
        enrolled = {"enrolment__application": application}
    else:
        enrolled = {"enrolment__applicant": applicant}
        # record_attendance refuses it too; asked first to answer a phone with its own
        # code (a person enrolled directly in another cohort, or moved out of this one).
        if not Enrolment.objects.filter(cohort=session.cohort_id, applicant=applicant, active=True).exists():
            message = _("This person is not enrolled in the session's cohort.")
            raise ServiceError(
                message, code="not_enrolled", details={"applicant": [_("Not enrolled in this cohort.")]}
            )
    mark = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("recorded_by")
        .filter(session=session, enrolment__active=True, **enrolled)
        .first()
    )
    present = data["present"]
    known = data.get("known_present")
    if mark is not None and mark.present != present and mark.present != known:
        raise ConflictWithServer(
            _("%(name)s recorded this mark meanwhile. Compare, then keep one.")
            % {"name": _name(mark.recorded_by) or _("Someone else")},
            code="recorded_meanwhile",
            server=attendance_version(mark, session, application, applicant),
        )
    try:
        mark = record_attendance(
            by=by, session=session, application=application, applicant=applicant, present=present
        )
    except Conflict as moved:
        raise ConflictWithServer(
            moved.message, code=moved.code, server=attendance_version(mark, session, application, applicant)
        ) from None
    return attendance_version(mark, session, application, applicant), application, applicant


def apply_registration(*, by, data, photos):
    centre = IntegrationCentre.objects.select_related("country").filter(pk=data["centre"]).first()
    if centre is None:
        raise NotVisible()
    applicant = register_applicant(
        by=by,
        centre=centre,
        first_name=data["first_name"],
        last_name=data["last_name"],
        date_of_birth=data["date_of_birth"],
        target_groups=data["target_groups"],
        sex=data.get("sex", ""),
        phone=data.get("phone", ""),
        municipality=data.get("municipality", ""),
        household_size=data.get("household_size", 1),
        dependants=data.get("dependants", 0),
        language=data.get("language", "sr-latn"),
        consent_given=data["consent_on_paper"],
        special_consents=data.get("special_consents", ()),
        accepts_email=False,
    )
    record = {
        "kind": REGISTRATION,
        "id": applicant.pk,
        "possible_duplicates": len(applicant.possible_duplicates),
    }
    if data.get("programme"):
        programme = programmes_for(by).filter(pk=data["programme"]).first()
        if programme is None:
            message = _("Unknown programme.")
            raise ServiceError(message, details={"programme": [message]})
        application = create_application(
            by=by,
            applicant=applicant,
            programme=programme,
            business_name=data.get("business_name", ""),
            sector=data.get("sector", ""),
        )
        record["application"] = application.pk
        return record, application, applicant
    return record, None, applicant


APPLY = {VISIT: apply_visit, ATTENDANCE: apply_attendance, REGISTRATION: apply_registration}
