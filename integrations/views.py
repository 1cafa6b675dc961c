"""The form submissions a person fixes: those refused at the intake (integrations.intake),
listed for the field officers and programme managers of their centre."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError, require
from core.web import paginate

from . import intake, kobo
from .forms import DismissForm, ReapplyForm
from .models import FormSubmission


@login_required
def submission_list(request):
    user = request.user
    require(intake.can_list(user))
    submissions = intake.submissions_for(user).filter(status=FormSubmission.Status.REFUSED)
    page = paginate(request, submissions.select_related("centre").order_by("-received_at", "-id"))
    return render(request, "integrations/submission_list.html", {"page": page})


def _visible_or_404(user, pk):
    require(intake.can_list(user))
    submission = intake.submissions_for(user).select_related("centre", "account").filter(pk=pk).first()
    if submission is None:
        raise Http404
    return submission


@login_required
def submission_detail(request, pk, *, reapply_form=None, dismiss_form=None, errors=None, status=200):
    submission = _visible_or_404(request.user, pk)
    corrections = submission.corrections or {}
    answers = {key: value for key, value in kobo.flatten(submission.payload).items() if key != "_attachments"}
    return render(
        request,
        "integrations/submission_detail.html",
        {
            "submission": submission,
            "answers": sorted(answers.items()),
            "can_fix": intake.can_fix(request.user, submission).allowed
            and submission.status == FormSubmission.Status.REFUSED,
            "reapply_form": reapply_form
            or ReapplyForm(
                initial={
                    "application": corrections.get("application") or submission.application_id,
                    "months": corrections.get("months"),
                }
            ),
            "dismiss_form": dismiss_form or DismissForm(),
            "errors": errors or [],
        },
        status=status,
    )


@require_POST
@login_required
def submission_reapply(request, pk):
    submission = _visible_or_404(request.user, pk)
    require(intake.can_fix(request.user, submission))
    form = ReapplyForm(request.POST)
    if not form.is_valid():
        return submission_detail(request, pk, reapply_form=form, status=400)
    try:
        submission = intake.reapply_submission(submission=submission, by=request.user, **form.cleaned_data)
    except ServiceError as exc:
        return submission_detail(request, pk, reapply_form=form, errors=[exc.message], status=exc.status)
    if submission.status == FormSubmission.Status.RECORDED:
        messages.success(request, _("The visit is recorded from the submission."))
        return redirect("intake-submission-list")
    return submission_detail(request, pk, reapply_form=form, errors=[submission.reason], status=400)


@require_POST
@login_required
def submission_dismiss(request, pk):
    submission = _visible_or_404(request.user, pk)
    require(intake.can_fix(request.user, submission))
    form = DismissForm(request.POST)
    if not form.is_valid():
        return submission_detail(request, pk, dismiss_form=form, status=400)
    try:
        intake.dismiss_submission(submission=submission, by=request.user, **form.cleaned_data)
    except ServiceError as exc:
        return submission_detail(request, pk, dismiss_form=form, errors=[exc.message], status=exc.status)
    messages.success(request, _("The submission is dismissed."))
    return redirect("intake-submission-list")
