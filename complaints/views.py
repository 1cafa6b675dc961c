"""Complaint pages: the public form and follow-up page, the signed-in applicant's form,
and the staff pages (list, case, record on someone's behalf, register). Thin: each
calls a selector or a service."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from applicants.models import Applicant
from applicants.selectors import centres_for
from core.errors import ServiceError, require
from core.web import client_ip, paginate
from grants.models import GrantApplication

from . import abuse, attachments, permissions, selectors, services
from .forms import (
    ApplicantComplaintForm,
    FollowUpForm,
    NoteForm,
    PublicComplaintForm,
    ResolveForm,
    StaffComplaintForm,
)
from .models import Channel, ComplaintAttachment, Status


def _language():
    return (get_language() or "en").lower()


@transaction.non_atomic_requests  # the attachment is stored before the complaint's transaction
def complaint_new(request):
    """Anyone may complain: without an account on the public form, an applicant signed
    in on their own; staff record complaints on the staff form."""
    user = request.user
    if user.is_authenticated and roles.is_staff_member(user):
        return redirect("complaint-record")
    applicant = Applicant.objects.filter(user=user).first() if user.is_authenticated else None
    if user.is_authenticated and applicant is None:
        raise Http404
    if applicant is not None:
        return _applicant_form(request, applicant)
    return _public_form(request)


def _public_form(request):
    errors, status = [], 200
    form = PublicComplaintForm(
        request.POST or None, request.FILES or None, initial={"started": abuse.form_token()}
    )
    if request.method == "POST":
        try:
            abuse.count_request("form", client_ip(request), limit=settings.COMPLAINT_FORM_LIMIT)
            abuse.check_human(token=request.POST.get("started"), honeypot=request.POST.get("website"))
        except ServiceError as exc:
            # A new token: the next send is timed from now.
            form.data = form.data.copy()
            form.data["started"] = abuse.form_token()
            return _public_page(request, form, [exc.message], exc.status)
        if not form.is_valid():
            return _public_page(request, form, [], 400)
        data = form.cleaned_data
        try:
            complaint, code = services.submit_complaint(
                by=None,
                channel=Channel.PUBLIC_FORM,
                category=data["category"],
                description=data["description"],
                language=_language(),
                centre=data["centre"],
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                attachment=data["attachment"],
            )
        except ServiceError as exc:
            return _public_page(request, form, [exc.message], exc.status)
        return render(request, "complaints/complaint_received.html", {"complaint": complaint, "code": code})
    return _public_page(request, form, errors, status)


def _public_page(request, form, errors, status):
    return render(
        request,
        "complaints/complaint_form.html",
        {"form": form, "errors": errors, "public": True},
        status=status,
    )


def _applicant_form(request, applicant):
    errors, status = [], 200
    applications = selectors.linkable_applications(request.user)
    form = ApplicantComplaintForm(request.POST or None, request.FILES or None, applications=applications)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint, code = services.submit_complaint(
                    by=request.user,
                    channel=Channel.ACCOUNT,
                    category=data["category"],
                    description=data["description"],
                    language=applicant.language or _language(),
                    centre=applicant.centre,
                    application=data["application"],
                    applicant=applicant,
                    attachment=data["attachment"],
                )
            except ServiceError as exc:
                errors, status = [exc.message], exc.status
            else:
                return render(
                    request, "complaints/complaint_received.html", {"complaint": complaint, "code": code}
                )
        else:
            status = 400
    return render(request, "complaints/complaint_form.html", {"form": form, "errors": errors}, status=status)


def follow_up(request):
    """Reference and code: the status and the outcome, nothing else."""
    form = FollowUpForm(request.POST or None)
    complaint, errors, status = None, [], 200
    if request.method == "POST":
        try:
            abuse.count_request("follow-up", client_ip(request), limit=settings.COMPLAINT_FOLLOW_UP_LIMIT)
        except ServiceError as exc:
            errors, status = [exc.message], exc.status
        else:
            if form.is_valid():
                complaint = selectors.followed_up(form.cleaned_data["reference"], form.cleaned_data["code"])
                if complaint is None:
                    errors, status = (
                        [_("No complaint has this reference and code. Check both and try again.")],
                        404,
                    )
            else:
                status = 400
    return render(
        request,
        "complaints/complaint_follow_up.html",
        {"form": form, "complaint": complaint, "errors": errors},
        status=status,
    )


@login_required
@transaction.non_atomic_requests
def complaint_record(request):
    """Staff write down a complaint made by phone, in a visit or by letter."""
    user = request.user
    require(permissions.can_record(user))
    centres = centres_for(user).order_by("name")
    form = StaffComplaintForm(request.POST or None, request.FILES or None, centres=centres)
    errors, status = [], 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            application = None
            if data["application"]:
                application = (
                    GrantApplication.objects.filter(pk=data["application"], centre__in=centres)
                    .select_related("applicant")
                    .first()
                )
                if application is None:
                    form.add_error("application", _("No application with this number at your centres."))
            if form.is_valid():
                try:
                    complaint, code = services.submit_complaint(
                        by=user,
                        channel=data["channel"],
                        category=data["category"],
                        description=data["description"],
                        language=application.applicant.language if application else _language(),
                        centre=data["centre"] or (application.centre if application else None),
                        application=application,
                        applicant=application.applicant if application else None,
                        about_user=data["about_user"],
                        name=data["name"],
                        email=data["email"],
                        phone=data["phone"],
                        attachment=data["attachment"],
                    )
                except ServiceError as exc:
                    errors, status = [exc.message], exc.status
                else:
                    return render(
                        request,
                        "complaints/complaint_received.html",
                        {"complaint": complaint, "code": code, "recorded": True},
                    )
        if not form.is_valid():
            status = 400
    return render(
        request,
        "complaints/complaint_form.html",
        {"form": form, "errors": errors, "staff": True},
        status=status,
    )


@login_required
def complaint_list(request):
    user = request.user
    require(permissions.can_list(user))
    cases = selectors.visible_complaints(user)
    shown = request.GET.get("show")
    if shown == "open":
        cases = cases.exclude(status=Status.RESOLVED)
    elif shown == "overdue":
        cases = cases.overdue()
    page = paginate(request, cases)
    now = timezone.now()
    for complaint in page:
        complaint.late = complaint.is_overdue(now)
    return render(request, "complaints/complaint_list.html", {"page": page, "show": shown})


def _visible_or_404(user, pk):
    complaint = selectors.visible_complaints(user).filter(pk=pk).first()
    if complaint is None:
        raise Http404
    return complaint


@login_required
def complaint_detail(request, pk, *, note_form=None, resolve_form=None, errors=None, status=200):
    user = request.user
    require(permissions.can_list(user))
    complaint = _visible_or_404(user, pk)
    return render(
        request,
        "complaints/complaint_detail.html",
        {
            "complaint": complaint,
            "late": complaint.is_overdue(),
            "notes": complaint.notes.select_related("author"),
            "attachments": complaint.attachments.all(),
            "can_handle": permissions.can_handle(user, complaint).allowed,
            "note_form": note_form or NoteForm(),
            "resolve_form": resolve_form or ResolveForm(),
            "errors": errors or [],
        },
        status=status,
    )


@require_POST
@login_required
def complaint_acknowledge(request, pk):
    complaint = _visible_or_404(request.user, pk)
    try:
        services.acknowledge_complaint(complaint=complaint, by=request.user)
    except ServiceError as exc:
        return complaint_detail(request, pk, errors=[exc.message], status=exc.status)
    messages.success(request, _("The complaint is acknowledged."))
    return redirect("complaint-detail", pk=pk)


@require_POST
@login_required
def complaint_note(request, pk):
    complaint = _visible_or_404(request.user, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        require(permissions.can_handle(request.user, complaint))
        return complaint_detail(request, pk, note_form=form, status=400)
    try:
        services.add_note(complaint=complaint, by=request.user, text=form.cleaned_data["text"])
    except ServiceError as exc:
        return complaint_detail(request, pk, note_form=form, errors=[exc.message], status=exc.status)
    messages.success(request, _("The note was added."))
    return redirect("complaint-detail", pk=pk)


@require_POST
@login_required
def complaint_resolve(request, pk):
    complaint = _visible_or_404(request.user, pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        require(permissions.can_handle(request.user, complaint))
        return complaint_detail(request, pk, resolve_form=form, status=400)
    try:
        services.resolve_complaint(complaint=complaint, by=request.user, outcome=form.cleaned_data["outcome"])
    except ServiceError as exc:
        return complaint_detail(request, pk, resolve_form=form, errors=[exc.message], status=exc.status)
    messages.success(request, _("The complaint is resolved; the person is told the outcome."))
    return redirect("complaint-detail", pk=pk)


@login_required
def complaint_attachment(request, pk):
    user = request.user
    attachment = (
        ComplaintAttachment.objects.filter(pk=pk, complaint__in=selectors.visible_complaints(user))
        .select_related("complaint__application")
        .first()
    )
    if attachment is None:
        raise Http404
    services.record_attachment_download(attachment=attachment, by=user)
    try:
        handle = attachments.open_file(attachment)
    except ServiceError as exc:
        return complaint_detail(request, attachment.complaint_id, errors=[exc.message], status=exc.status)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachments.download_name(attachment),
        content_type=attachment.content_type,
    )


@login_required
def complaint_register(request):
    user = request.user
    require(permissions.can_view_register(user))
    return render(
        request,
        "complaints/complaint_register.html",
        {"register": selectors.complaint_register(user), "min_count": selectors.MIN_COUNT},
    )
