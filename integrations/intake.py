"""Form intake: a KoboToolbox or ODK submission of the monitoring-visit form becomes the
visit it describes, once, however often the form server posts it; a submission that
cannot is kept with the reason, for a person of the centre to correct and apply again or
to dismiss (docs/api.md "Form intake").

A submission is applied as the service account that posted it: the account must be a
field officer's (the role that records visits), it reaches only its centres'
applications, and `assessments.services.record_visit` keeps every rule of a visit (the
grant in follow-up, inside its window, not in the future, photos checked)."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants import roles, tokens
from applicants.selectors import centre_ids, centre_scope
from assessments import services as visit_services
from assessments.selectors import visits_for
from audit import trail
from core.decisions import ALLOWED, Decision
from core.errors import Conflict, NotAllowed, NotVisible, ServiceError, require
from grants.selectors import applications_for

from . import attachments, kobo
from .models import FormSubmission

MAX_RESOLUTION = 500


def intake_account(user):
    """The service account posting submissions; NotAllowed (403) for anyone else."""
    account = tokens.service_account_of(user)
    if account is None or not roles.has_role(user, roles.FIELD_OFFICER):
        raise NotAllowed(
            _("Submissions come from a form server's service account with the field officer role.")
        )
    return account


def can_list(user):
    """The refused submissions' page: field officers and programme managers (people)."""
    if not (roles.has_role(user, roles.FIELD_OFFICER) or roles.has_role(user, roles.PROGRAMME_MANAGER)):
        return Decision(False, _("Only field officers and programme managers fix form submissions."))
    if tokens.service_account_of(user) is not None:
        return Decision(False, _("A person fixes form submissions, not a service account."))
    return ALLOWED


def can_fix(user, submission):
    """Field officers and programme managers of the submission's centre."""
    decision = can_list(user)
    if not decision.allowed:
        return decision
    if submission.centre_id not in centre_ids(user):
        return Decision(False, _("This submission belongs to another centre."))
    return ALLOWED


def submissions_for(user):
    """The submissions the user may read: a service account its own; field officers and
    programme managers those of their centres; superusers all."""
    if not user.is_authenticated:
        return FormSubmission.objects.none()
    if user.is_superuser:
        return FormSubmission.objects.all()
    if tokens.service_account_of(user) is not None:
        return FormSubmission.objects.filter(account__user=user)
    if roles.has_role(user, roles.FIELD_OFFICER) or roles.has_role(user, roles.PROGRAMME_MANAGER):
        return FormSubmission.objects.filter(centre_id__in=centre_scope(user))
    return FormSubmission.objects.none()


@transaction.atomic
def receive_submission(*, by, payload):
    """The submission of this instance id, applied the first time it comes; later posts
    of it only count, and answer with what became of it. ServiceError (400, nothing
    kept) for a body that is not a submission at all."""
    account = intake_account(by)
    if not isinstance(payload, dict):
        raise ServiceError(_("A submission is a JSON object."), code="not_a_submission")
    instance = kobo.instance_id(payload)
    if instance is None:
        raise ServiceError(
            _("The submission has no instance id (meta/instanceID, __id or _uuid): it cannot be kept once."),
            code="no_instance_id",
            details={"meta/instanceID": [_("Required.")]},
        )
    existing = _posted_again(account, instance)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            submission = FormSubmission.objects.create(
                account=account, instance_id=instance, payload=payload, centre_id=_home_centre(account)
            )
    except IntegrityError:
        # Posted twice at the same moment: the other request kept (and applied) it.
        return _posted_again(account, instance)
    return _apply(submission, account=account)


def _posted_again(account, instance):
    found = FormSubmission.objects.select_for_update().filter(account=account, instance_id=instance).first()
    if found is not None:
        FormSubmission.objects.filter(pk=found.pk).update(
            times_posted=F("times_posted") + 1, last_posted_at=timezone.now()
        )
    return found


def _home_centre(account):
    ids = centre_ids(account.user)
    return min(ids) if ids else None


def _apply(submission, *, account, by=None):
    """Make the submission its visit, as the account; kept refused with the reason when
    it cannot be. `by`: the person who corrected it (audited beside the outcome)."""
    user = account.user
    try:
        answers = kobo.read(submission.payload, corrections=submission.corrections)
        application = applications_for(user).filter(pk=answers.application).first()
        if application is not None and by is not None:
            application = applications_for(by).filter(pk=application.pk).first()
        if application is None:
            raise kobo.Refusal(
                "unknown_application",
                _("No application %(id)s that this form server may record visits for.")
                % {"id": answers.application},
            )
        submission.application = application
        submission.centre_id = application.centre_id
        visit = visits_for(user).filter(application=application, months=answers.months).first()
        if visit is None:
            raise kobo.Refusal(
                "unknown_visit",
                _("Application %(id)s has no %(months)s-month visit.")
                % {"id": application.pk, "months": answers.months},
            )
        if visit.closed_on is not None:
            raise kobo.Refusal("visit_not_owed", _("This visit is no longer owed: the grant ended."))
        if visit.visited_on is not None:
            raise kobo.Refusal(
                "visit_already_recorded",
                _("This visit was already recorded on %(date)s; correct it on the visit itself.")
                % {"date": visit.visited_on.isoformat()},
            )
        photos = [attachments.fetch_photo(photo) for photo in answers.photos]
        with transaction.atomic():
            visit = visit_services.record_visit(
                by=user,
                visit=visit,
                visited_on=answers.visited_on,
                operating=answers.operating,
                equipment_in_use=answers.equipment_in_use,
                monthly_revenue=answers.monthly_revenue,
                jobs=answers.jobs,
                notes=answers.notes,
                photos=photos,
            )
    except kobo.Refusal as refusal:
        return _refuse(submission, refusal.code, refusal.message, account=account, by=by)
    except (ServiceError, NotAllowed, NotVisible) as error:
        code = getattr(error, "code", "not_allowed" if isinstance(error, NotAllowed) else "not_found")
        return _refuse(submission, code, _message(error), account=account, by=by)
    submission.visit = visit
    submission.status = FormSubmission.Status.RECORDED
    submission.reason_code = submission.reason = ""
    submission.save()
    _audit(submission, "form_submission_recorded", account=account, by=by)
    return submission


def _message(error):
    if isinstance(error, ServiceError):
        return str(error.message)
    return str(getattr(error, "reason", "") or error) or _("Not found.")


def _refuse(submission, code, message, *, account, by):
    submission.status = FormSubmission.Status.REFUSED
    submission.reason_code = str(code)[:40]
    submission.reason = message
    submission.visit = None
    submission.save()
    _audit(submission, "form_submission_refused", account=account, by=by)
    return submission


def _audit(submission, action, *, account, by):
    trail.record(
        action=action,
        actor=by or account.user,
        application=submission.application,
        data={
            "submission": submission.pk,
            "instance_id": submission.instance_id,
            "account": account.pk,
            "status": submission.status,
            "code": submission.reason_code,
            "visit": submission.visit_id,
            **({"corrections": submission.corrections} if submission.corrections else {}),
        },
    )


def _locked_refused(submission, by):
    submission = (
        FormSubmission.objects.select_for_update().select_related("account__user").get(pk=submission.pk)
    )
    require(can_fix(by, submission))
    if submission.status != FormSubmission.Status.REFUSED:
        raise Conflict(_("Only a refused submission can be fixed or dismissed."), code="wrong_state")
    return submission


@transaction.atomic
def reapply_submission(*, submission, by, application, months):
    """A person corrects which visit the submission is (the application's id, the visit's
    months) and applies it again, as the account that posted it; the correction must be
    an application both may open. Returns the submission, recorded or refused anew."""
    submission = _locked_refused(submission, by)
    submission.corrections = {"application": int(application), "months": int(months)}
    return _apply(submission, account=submission.account, by=by)


@transaction.atomic
def dismiss_submission(*, submission, by, reason):
    """A person decides the submission will never be a visit, saying why."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_RESOLUTION:
        raise ServiceError(
            _("Say why, in at most %(count)s characters.") % {"count": MAX_RESOLUTION},
            details={"reason": [_("Required.")]},
        )
    submission = _locked_refused(submission, by)
    submission.status = FormSubmission.Status.DISMISSED
    submission.resolved_by = by
    submission.resolved_at = timezone.now()
    submission.resolution = reason
    submission.save()
    trail.record(
        action="form_submission_dismissed",
        actor=by,
        application=submission.application,
        comment=reason,
        data={
            "submission": submission.pk,
            "instance_id": submission.instance_id,
            "code": submission.reason_code,
        },
    )
    return submission
