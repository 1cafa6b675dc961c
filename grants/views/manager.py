"""The programme manager's pages: the approvals queue and the programmes with their calls."""

from django.shortcuts import render
from django.utils import timezone

from applicants import roles
from assessments.models import Assessment

from .. import selectors
from ..forms import TransitionForm
from ..workflow import passes_mark
from .common import paginate, role_required

RECOMMENDATIONS = dict(Assessment.Recommendation.choices)


@role_required(roles.PROGRAMME_MANAGER)
def approvals(request):
    """Training completed and assessed: approve or reject, with the budget left beside
    each. The buttons post to the application's transition view, which applies every
    rule (four eyes, budget, pass mark) and comes back here."""
    user = request.user
    page = paginate(request, selectors.approvals_ready(user))
    for application in page:
        application.own_assessment = application.assessor_id == user.pk
        application.recommendation_label = RECOMMENDATIONS.get(application.recommendation, "")
        application.budget_short = application.budget_left < application.requested_total
        application.passes = bool(application.assessment_complete) and passes_mark(
            application.weighted_score, application.programme.pass_mark
        )
    return render(request, "grants/approvals_queue.html", {"page": page, "form": TransitionForm()})


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER)
def programmes(request):
    user = request.user
    today = timezone.localdate()
    rows = selectors.programmes_for(user).order_by("-call_closes", "name")
    return render(
        request,
        "grants/programme_list.html",
        {
            "programmes": rows,
            "today": today,
            "can_edit": user.is_staff and user.has_perm("grants.change_programme"),
            # finance: labels, and not whom each programme is for (docs/permissions.md)
            "public_labels": roles.uses_public_labels(user),
        },
    )
