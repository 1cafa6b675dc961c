"""Forms of the web interface. They check the shape of what a person typed; the rules
(ceilings, states, who may do what) stay in the services, whose errors the views show."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import TargetGroup

from . import transitions
from .models import (
    MAX_QUANTITY,
    ContributionPayment,
    CooperativeMember,
    Delivery,
    DeliveryLine,
    DocumentKind,
    EquipmentItem,
    GrantApplication,
    HouseholdOverride,
    Sector,
    max_length,
)
from .workflow import State

# A date input's value is ISO whatever the language (the browser shows it the reader's
# way); without the format Django would write it in the language's first input format
# ("06.12.2026." in Serbian), which a date input drops.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The largest id a filter looks for (a bigint's): beyond it the database would refuse the query.
MAX_ID = 2**63 - 1

MONEY_FIELD = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


class ApplicationForm(forms.Form):
    business_name = forms.CharField(
        label=_("Business name"), max_length=max_length(GrantApplication, "business_name")
    )
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    activity = forms.CharField(
        label=_("What will the business do?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=max_length(GrantApplication, "activity"),
        required=False,
    )
    market = forms.CharField(
        label=_("Who will buy from you?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=max_length(GrantApplication, "market"),
        required=False,
    )
    experience = forms.CharField(
        label=_("Your experience in this work"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=max_length(GrantApplication, "experience"),
        required=False,
    )
    expected_monthly_revenue = forms.DecimalField(
        label=_("Expected money coming in per month"), required=False, **MONEY_FIELD
    )
    expected_monthly_costs = forms.DecimalField(
        label=_("Expected costs per month"), required=False, **MONEY_FIELD
    )
    jobs_planned = forms.IntegerField(label=_("Jobs planned (including yours)"), min_value=0, max_value=1000)

    def plan(self):
        data = self.cleaned_data
        return {
            "activity": data["activity"],
            "market": data["market"],
            "experience": data["experience"],
            "expected_monthly_revenue": data["expected_monthly_revenue"],
            "expected_monthly_costs": data["expected_monthly_costs"],
            "jobs_planned": data["jobs_planned"],
        }


class ItemForm(forms.Form):
    id = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    description = forms.CharField(label=_("Equipment"), max_length=max_length(EquipmentItem, "description"))
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"class": "qty"}),
    )
    unit_cost = forms.DecimalField(
        label=_("Price of one (estimate)"),
        widget=forms.NumberInput(attrs={"class": "cost", "step": "0.01"}),
        **MONEY_FIELD,
    )


class BaseItemFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this row")

    def items(self):
        """The rows to keep, as the service takes them (deleted and blank rows left out)."""
        rows = []
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            data = form.cleaned_data
            row = {
                "description": data["description"],
                "quantity": data["quantity"],
                "unit_cost": data["unit_cost"],
            }
            if data.get("id"):
                row["id"] = data["id"]
            rows.append(row)
        return rows


ItemFormSet = forms.formset_factory(
    ItemForm, formset=BaseItemFormSet, extra=0, can_delete=True, max_num=50, absolute_max=60
)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF or a photo (JPG, PNG); business plans also as DOCX or ODT."),
    )

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in DocumentKind.choices if k in kinds]


class ReassignForm(forms.Form):
    """The field officer to give an application to, among those of its centre."""

    officer = forms.ModelChoiceField(
        queryset=None,
        error_messages={
            "required": _("Choose a field officer of the application's centre."),
            "invalid_choice": _("Choose a field officer of the application's centre."),
        },
    )

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers


class HouseholdOverrideForm(forms.Form):
    """Why a second grant in one household is allowed."""

    reason = forms.CharField(
        label=_("Reason for allowing a second grant"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=max_length(HouseholdOverride, "reason"),
        error_messages={"required": _("Give the reason for allowing a second grant.")},
    )


class ApprovalForm(forms.Form):
    """What the approval grants for each item: as asked, or less (a lower quantity, 0 to
    remove it, or a lower unit cost). More than asked is refused by the service, which
    says so for the item."""

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item-{item.pk}-quantity"] = forms.IntegerField(
                label=_("Approved quantity"), min_value=0, max_value=MAX_QUANTITY, initial=item.quantity
            )
            self.fields[f"item-{item.pk}-unit_cost"] = forms.DecimalField(
                label=_("Approved unit cost"),
                min_value=0,
                max_digits=12,
                decimal_places=2,
                initial=item.unit_cost,
            )

    def rows(self):
        return [
            {
                "item": item,
                "quantity": self[f"item-{item.pk}-quantity"],
                "unit_cost": self[f"item-{item.pk}-unit_cost"],
            }
            for item in self.items
        ]

    def granted(self):
        data = self.cleaned_data
        return {
            item.pk: (data[f"item-{item.pk}-quantity"], data[f"item-{item.pk}-unit_cost"])
            for item in self.items
        }


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CooperativeForm(forms.Form):
    """Whether the application is a cooperative's, and its registration."""

    is_cooperative = forms.BooleanField(label=_("The application is a cooperative's"), required=False)
    cooperative_registration_number = forms.CharField(
        label=_("Cooperative registration number"),
        max_length=max_length(GrantApplication, "cooperative_registration_number"),
        required=False,
    )
    cooperative_registered_on = forms.DateField(
        label=_("Registered on"), required=False, widget=_date_input()
    )


class MemberForm(forms.Form):
    """A registered person who joins the cooperative: by their registration number (and,
    for an applicant adding them, their date of birth)."""

    applicant = forms.IntegerField(
        label=_("Registration number of the person"), min_value=1, max_value=2**63 - 1
    )
    date_of_birth = forms.DateField(label=_("Their date of birth"), required=False, widget=_date_input())
    role = forms.ChoiceField(label=_("Role"), choices=CooperativeMember.Role.choices, initial="member")
    joined_on = forms.DateField(label=_("Member since"), required=False, widget=_date_input())

    def __init__(self, *args, asks_birth_date=False, **kwargs):
        super().__init__(*args, **kwargs)
        if asks_birth_date:
            self.fields["date_of_birth"].required = True
        else:
            del self.fields["date_of_birth"]


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        help_text=_("Needed when you return, reject, cancel or discontinue: the applicant reads it."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=transitions.COMMENT_MAX_LENGTH,
        required=False,
    )

    def __init__(self, *args, for_applicant=False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_applicant:
            self.fields["comment"].label = _("A message for your field officer (optional)")
            self.fields["comment"].help_text = ""


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=_("Search name or business"), max_length=100, required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    programme = forms.TypedChoiceField(label=_("Programme"), required=False, coerce=int, empty_value=None)
    centre = forms.TypedChoiceField(label=_("Centre"), required=False, coerce=int, empty_value=None)
    overdue = forms.BooleanField(label=_("Only with overdue visits"), required=False)

    def __init__(self, *args, programmes=(), centres=(), **kwargs):
        """`programmes` and `centres`: (id, name) pairs (selectors.filter_choices)."""
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Any state")), *State.CHOICES]
        self.fields["programme"].choices = [("", _("Any programme")), *programmes]
        self.fields["centre"].choices = [("", _("Any centre")), *centres]


class DeliveryForm(forms.Form):
    delivered_on = forms.DateField(label=_("Delivered on"), widget=DATE)
    purchase_order = forms.TypedChoiceField(
        label=_("Purchase order"), required=False, coerce=int, empty_value=None
    )
    supplier = forms.CharField(
        label=_("Supplier"),
        max_length=max_length(Delivery, "supplier"),
        required=False,
        help_text=_("Taken from the purchase order when one is named."),
    )
    invoice_number = forms.CharField(
        label=_("Invoice number"), max_length=max_length(Delivery, "invoice_number")
    )

    def __init__(self, *args, orders=(), **kwargs):
        """`orders`: the grant's approved purchase orders, to name one."""
        super().__init__(*args, **kwargs)
        self.fields["purchase_order"].choices = [("", "—")] + [
            (order.pk, f"{order.number} · {order.supplier.name}") for order in orders
        ]

    def clean_delivered_on(self):
        value = self.cleaned_data["delivered_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("A delivery cannot be dated in the future."))
        return value


class DeliveryLineForm(forms.Form):
    item = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity delivered now"), min_value=0, max_value=MAX_QUANTITY)
    actual_unit_cost = forms.DecimalField(
        label=_("Actual price of one"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        **MONEY_FIELD,
    )
    serial_number = forms.CharField(
        label=_("Serial number (optional)"),
        required=False,
        max_length=max_length(DeliveryLine, "serial_number"),
    )
    asset_tag = forms.CharField(
        label=_("Asset tag (optional)"), required=False, max_length=max_length(DeliveryLine, "asset_tag")
    )

    def clean(self):
        data = super().clean()
        if data.get("quantity") and data.get("actual_unit_cost") is None:
            self.add_error("actual_unit_cost", _("Give the price paid for the items delivered."))
        return data


DeliveryLineFormSet = forms.formset_factory(DeliveryLineForm, extra=0, max_num=200, absolute_max=200)


class DeliveryEntry:
    """The delivery page's form: the delivery (date, supplier, invoice) and one line per
    item still due, prefilled with the quantity due. It reads what was typed; the
    service (`record_delivery_lines`) decides whether the delivery may be recorded."""

    def __init__(self, data=None, *, items, orders=()):
        """`orders`: the grant's approved purchase orders, one of which it may name."""
        self.items = {item.pk: item for item in items}
        initial = [{"item": item.pk, "quantity": item.quantity_due} for item in items]
        self.form = DeliveryForm(data, orders=orders)
        self.formset = DeliveryLineFormSet(data, initial=initial, prefix="lines")
        self.errors = []
        self.status = 200

    def is_valid(self):
        """True when the form is complete and at least one line has a quantity."""
        if not (self.form.is_valid() and self.formset.is_valid()):
            self.status = 400
            return False
        if not self.lines():
            self.refuse([str(_("Enter the quantity of at least one item delivered now."))], 400)
            return False
        return True

    def header(self):
        return dict(self.form.cleaned_data)

    def lines(self):
        return [
            {key: value for key, value in line.cleaned_data.items() if value not in (None, "")}
            for line in self.formset.forms
            if line.cleaned_data.get("quantity")
        ]

    def refuse(self, messages, status):
        self.errors, self.status = messages, status

    def rows(self):
        """Each line's form beside the item it is for (None for a tampered id)."""
        rows = []
        for line in self.formset.forms:
            try:
                item = self.items.get(int(line["item"].value()))
            except (TypeError, ValueError):
                item = None
            rows.append({"form": line, "item": item})
        return rows


class CostReapprovalForm(forms.Form):
    limit = forms.DecimalField(
        label=_("Most the grant's deliveries may cost in total"),
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        **MONEY_FIELD,
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class DashboardFilterForm(forms.Form):
    programme = forms.TypedChoiceField(label=_("Programme"), required=False, coerce=int, empty_value=None)
    centre = forms.TypedChoiceField(label=_("Centre"), required=False, coerce=int, empty_value=None)
    target_group = forms.ChoiceField(label=_("Target group"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)

    def __init__(self, *args, programmes=(), centres=(), **kwargs):
        """`programmes` and `centres`: (id, name) pairs (selectors.filter_choices)."""
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [("", _("All programmes")), *programmes]
        self.fields["centre"].choices = [("", _("All centres")), *centres]
        self.fields["target_group"].choices = [("", _("All target groups")), *TargetGroup.choices]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class ContributionPaymentForm(forms.Form):
    # Zero, negative or too large amounts are refused by the service, with its message.
    amount = forms.DecimalField(
        label=_("Amount paid"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(
        label=_("Reference (bank statement or receipt)"),
        max_length=max_length(ContributionPayment, "reference"),
    )


class ContributionReversalForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the payment reversed?"), max_length=max_length(ContributionPayment, "reference")
    )


class RegistrationForm(forms.Form):
    number = forms.CharField(
        label=_("Registration number"),
        max_length=max_length(GrantApplication, "business_registration_number"),
    )
    registered_on = forms.DateField(label=_("Registered on"), widget=forms.DateInput(attrs={"type": "date"}))


def equipment_outcomes(data, lines):
    """The outcome of each of `lines` as the discontinue form sends it
    (`equipment-<line>-outcome`, `-proceeds`, `-to_item`), for discontinue_grant, which
    checks them."""
    rows = []
    for line in lines:
        prefix = f"equipment-{line.pk}-"
        row = {"line": line.pk, "outcome": data.get(prefix + "outcome", "")}
        for name in ("proceeds", "to_item"):
            if data.get(prefix + name):
                row[name] = data.get(prefix + name)
        if row["outcome"]:
            rows.append(row)
    return rows


class AuditTrailFilter(forms.Form):
    """The audit trail page's filters (`grants.selectors.audit_trail`, as the API's)."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    actor = forms.CharField(label=_("Staff member (username)"), required=False, max_length=150)
    application = forms.IntegerField(
        label=_("Application number"), required=False, min_value=1, max_value=MAX_ID
    )
    field_order = ["date_from", "date_to", "actor", "action", "application"]

    def __init__(self, *args, action_labels, **kwargs):
        super().__init__(*args, **kwargs)
        # Added here, not declared: tests/test_i18n.py reads `action = ...` as an audit action.
        labels = sorted(((code, str(text)) for code, text in action_labels.items()), key=lambda pair: pair[1])
        self.fields["action"] = forms.ChoiceField(
            label=_("Action"), required=False, choices=[("", _("All actions")), *labels]
        )
        self.order_fields(self.field_order)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the period comes before its start."))
        return data
