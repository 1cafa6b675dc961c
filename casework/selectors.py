"""What the casework pages show, read in the database and filtered by permission: each
function returns exactly the rows and columns its page shows."""

from django.db.models import Case, OuterRef, Subquery, When

from assessments import selectors as assessment_selectors
from assessments.models import MonitoringVisit
from grants import selectors
from grants.workflow import State

# What the inbox shows of each application (the template's columns), and nothing more.
# The centre's and programme's names come from the filter choices the page reads anyway.
INBOX_FIELDS = (
    "business_name",
    "state",
    "requested_total",
    "created_at",
    "centre_id",
    "programme_id",
    "applicant__first_name",
    "applicant__last_name",
)

DUE_VISIT_FIELDS = (
    "months",
    "due_on",
    "application__state",
    "application__business_name",
    "application__applicant__first_name",
    "application__applicant__last_name",
)


def inbox_rows(user, filters, *, today):
    """The inbox's rows for the form's `filters`: the shown columns only, each row with
    `overdue_visit`, one open visit past its date of a grant in follow-up, looked up for
    the page's rows only (a LIMIT 1 subquery: PostgreSQL would hash every overdue visit
    for an EXISTS); a discontinued grant's visits left unmade are not owed any more."""
    overdue = Case(
        When(
            state=State.FOLLOW_UP,
            then=Subquery(
                MonitoringVisit.objects.filter(
                    application=OuterRef("pk"),
                    visited_on__isnull=True,
                    closed_on__isnull=True,
                    due_on__lt=today,
                ).values("pk")[:1]
            ),
        )
    )
    return (
        selectors.application_list(
            user,
            state=filters.get("state"),
            programme=filters.get("programme"),
            centre=filters.get("centre"),
            q=filters.get("q"),
            overdue_visits=filters.get("overdue", False),
        )
        .select_related("applicant")
        .only(*INBOX_FIELDS)
        .annotate(overdue_visit=overdue)
    )


def inbox_visits_due(user):
    """An officer's ten next visits due, with what the inbox's card shows of each."""
    return (
        assessment_selectors.due_visits(user)
        .select_related(None)
        .select_related("application__applicant")
        .only(*DUE_VISIT_FIELDS)[:10]
    )
