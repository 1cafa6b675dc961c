"""Writes to programmes (from the admin): each keeps what it changed in the audit trail."""

from django.db import transaction

from audit import trail

from ..models import (
    Programme,
)

PROGRAMME_FACTS = [
    "name",
    "donor",
    "country",
    "currency",
    "regional_programme",
    "budget",
    "ceiling",
    "target_groups",
    "training_threshold",
    "cost_tolerance",
    "pass_mark",
    "committee_result",
    "committee_sees_sensitive",
    "list_approver",
    "visit_months",
    "age_bands",
    "own_contribution_percent",
    "contribution_due_days",
    "contract_rule",
    "contribution_rule",
    "registration_rule",
    "quotes_required",
    "quote_threshold",
    "requires_purchase_orders",
    "allows_institutions",
]


@transaction.atomic
def save_programme(*, programme, by):
    """Save a programme as the admin edited it. Its budget, ceiling, pass mark and
    training threshold decide grants: the audit event keeps what they were."""
    before = None
    if programme.pk is not None:
        before = trail.snapshot(Programme.objects.get(pk=programme.pk), PROGRAMME_FACTS)
    programme.save()
    change = trail.changes(before, trail.snapshot(programme, PROGRAMME_FACTS))
    if change:
        action = "programme_created" if before is None else "programme_changed"
        trail.record(action=action, actor=by, data={"programme": programme.pk, **change})
    return programme


@transaction.atomic
def delete_programme(*, programme, by):
    """Only a programme nothing refers to can go (applications protect theirs)."""
    before = trail.snapshot(programme, PROGRAMME_FACTS)
    pk = programme.pk
    programme.delete()
    trail.record(
        action="programme_deleted", actor=by, data={"programme": pk, "before": before, "after": None}
    )


@transaction.atomic
def save_programme_rows(*, programme, formset, by):
    """Save an admin inline of rows that belong to the programme (the scoring rubric:
    its weights make the score that approval checks) with one audit event holding the
    rows before and after."""
    fields = list(formset.form._meta.fields)
    meta = formset.model._meta
    # Many-to-many fields (a call's centres) as the sorted ids they hold.
    related = [name for name in fields if meta.get_field(name).many_to_many]
    plain = [name for name in fields if name not in related]

    def rows():
        owned = formset.model.objects.filter(**{formset.fk.name: programme}).order_by("pk")
        return [
            {
                "id": row.pk,
                **trail.snapshot(row, plain),
                **{name: sorted(getattr(row, name).values_list("pk", flat=True)) for name in related},
            }
            for row in owned
        ]

    before = rows()
    formset.save()
    after = rows()
    if before != after:
        trail.record(
            action=f"programme_{formset.model._meta.model_name}_changed",
            actor=by,
            data={"programme": programme.pk, "before": before, "after": after},
        )
