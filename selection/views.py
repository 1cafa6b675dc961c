"""The selection pages: the calls a user works on, a call's committee and ranked list,
an application as a committee member reads and scores it, the reserve offers."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from applicants.models import TargetGroup
from applicants.roles import role_required
from assessments.forms import criterion_label
from core.errors import ServiceError, require
from core.web import error_messages
from grants.models import Call, GrantApplication

from . import minutes, permissions, selectors, services
from .models import Committee, ReserveOffer

SELECTION_ROLES = (roles.PROGRAMME_MANAGER, roles.FIELD_OFFICER, roles.COMMITTEE_MEMBER)


def _call(user, pk):
    call = get_object_or_404(Call.objects.select_related("programme__country"), pk=pk)
    require(permissions.can_view_call(user, call))
    return call


def _show_error(request, exc):
    for message in error_messages(exc):
        messages.error(request, message)


@role_required(*SELECTION_ROLES)
def call_list(request):
    user = request.user
    calls = list(selectors.calls_for(user))
    for call in calls:
        call.programme_label = call.programme.label_for(user)
    return render(
        request,
        "selection/call_list.html",
        {"calls": calls, "offers": selectors.open_offers_for(user)},
    )


@role_required(*SELECTION_ROLES)
def call_detail(request, pk):
    user = request.user
    call = _call(user, pk)
    committee = Committee.objects.filter(call=call).select_related("chair").first()
    members = list(committee.members.select_related("user")) if committee else []
    member = next((m for m in members if m.user_id == user.pk), None)
    rows = selectors.visible_rows(user, call, selectors.ranked_list(call))
    return render(
        request,
        "selection/call_detail.html",
        {
            "call": call,
            "programme_label": call.programme.label_for(user),
            "committee": committee,
            "members": members,
            "rows": rows,
            "mine": selectors.member_applications(member) if member else [],
            "can_approve": bool(permissions.can_approve_list(user, call)),
            "can_manage": bool(permissions.can_manage_committee(user, call)),
            "candidates": _candidates(call) if permissions.can_manage_committee(user, call) else [],
            "offers": ReserveOffer.objects.filter(call=call)
            .select_related("application")
            .order_by("-created_at"),
        },
    )


def _candidates(call):
    """Who may sit on the committee: external committee members, and staff of the
    call's country (programme managers, field officers)."""
    users = get_user_model().objects.filter(is_active=True)
    external = users.filter(
        groups__permissions__codename=f"role_{roles.COMMITTEE_MEMBER}",
        groups__permissions__content_type__app_label="applicants",
    )
    staff = users.filter(assignments__centre__country_id=call.programme.country_id)
    return list((external | staff).distinct().order_by("username"))


@require_POST
@role_required(roles.PROGRAMME_MANAGER)
def committee_save(request, pk):
    user = request.user
    call = _call(user, pk)
    candidates = {candidate.pk: candidate for candidate in _candidates(call)}
    try:
        chair = candidates[int(request.POST.get("chair", ""))]
        members = [candidates[int(value)] for value in request.POST.getlist("members")]
    except (KeyError, ValueError):
        messages.error(request, _("Choose the chair and the members from the list."))
        return redirect("selection-call", pk=call.pk)
    try:
        services.set_committee(call=call, chair=chair, members=members, by=user)
    except ServiceError as exc:
        _show_error(request, exc)
    else:
        messages.success(request, _("The committee is saved."))
    return redirect("selection-call", pk=call.pk)


def _member_application(user, pk):
    application = get_object_or_404(
        GrantApplication.objects.select_related("programme", "call", "applicant", "centre"), pk=pk
    )
    require(permissions.can_view_as_member(user, application))
    return application


@role_required(*SELECTION_ROLES)
def application_score(request, pk):
    """The application as a committee member reads it: the business plan, the
    equipment, sensitive facts only where allowed; the declaration, then the scores."""
    user = request.user
    application = _member_application(user, pk)
    member = permissions.seat(user, application.call_id)
    declaration = permissions.declaration_of(member, application)
    rubric = list(application.programme.rubric.all())
    for criterion in rubric:
        criterion.shown_label = criterion_label(criterion)
    labels = dict(TargetGroup.choices)
    status = 200
    if request.method == "POST":
        values = {criterion.pk: request.POST.get(f"criterion-{criterion.pk}") for criterion in rubric}
        try:
            services.score(application=application, by=user, scores=values)
        except ServiceError as exc:
            _show_error(request, exc)
            status = exc.status
        else:
            messages.success(request, _("Your scores are saved."))
            return redirect("selection-application", pk=application.pk)
    see_scores = bool(permissions.can_see_scores(user, application))
    scorings = selectors.scores_of(application) if see_scores else []
    for scoring in scorings:
        scoring.shown_lines = [(criterion_label(line.criterion), line.score) for line in scoring.lines.all()]
    return render(
        request,
        "selection/application_score.html",
        {
            "application": application,
            "items": application.items.all(),
            "declaration": declaration,
            "rubric": rubric,
            "can_score": bool(permissions.can_score(user, application)),
            "scorings": scorings,
            "see_scores": see_scores,
            # whom the programme is for can say "after release": only where allowed
            "target_groups": [labels.get(g, g) for g in application.applicant.target_groups]
            if permissions.sees_sensitive(user, application)
            else None,
        },
        status=status,
    )


@require_POST
@role_required(*SELECTION_ROLES)
def application_declare(request, pk):
    user = request.user
    application = _member_application(user, pk)
    try:
        services.declare(
            application=application,
            by=user,
            conflict=request.POST.get("conflict") == "yes",
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        _show_error(request, exc)
        return redirect("selection-application", pk=application.pk)
    if request.POST.get("conflict") == "yes":
        messages.success(
            request, _("Your conflict of interest is recorded; the application is no longer shown to you.")
        )
        return redirect("selection-call", pk=application.call_id)
    return redirect("selection-application", pk=application.pk)


@require_POST
@role_required(*SELECTION_ROLES)
def list_approve(request, pk):
    user = request.user
    call = _call(user, pk)
    result = services.approve_list(call=call, by=user, comment=request.POST.get("comment", ""))
    messages.success(request, _("Approved: %(count)s.") % {"count": len(result["approved"])})
    for application_id, reason in result["refused"].items():
        messages.error(
            request, _("#%(id)s not approved: %(reason)s") % {"id": application_id, "reason": reason}
        )
    return redirect("selection-call", pk=call.pk)


@require_POST
@role_required(*SELECTION_ROLES)
def offer_decide(request, pk):
    user = request.user
    offer = get_object_or_404(ReserveOffer.objects.select_related("call"), pk=pk)
    require(permissions.can_view_call(user, offer.call))
    try:
        services.decide_offer(
            offer=offer,
            by=user,
            accept=request.POST.get("accept") == "yes",
            comment=request.POST.get("comment", ""),
        )
    except ServiceError as exc:
        _show_error(request, exc)
    return redirect("selection-call", pk=offer.call_id)


@role_required(*SELECTION_ROLES)
def minutes_pdf(request, pk):
    user = request.user
    call = _call(user, pk)
    require(permissions.can_read_minutes(user, call))
    return minutes.response(call, by=user)
