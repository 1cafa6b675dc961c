"""Forms of the web interface. They check the shape of what a person typed; the rules
(ceilings, states, who may do what) stay in the services, whose errors the views show."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import TargetGroup

from . import transitions
from .models import MAX_QUANTITY, Delivery, DocumentKind, EquipmentItem, GrantApplication, Sector, max_length
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
    supplier = forms.CharField(label=_("Supplier"), max_length=max_length(Delivery, "supplier"))
    invoice_number = forms.CharField(
        label=_("Invoice number"), max_length=max_length(Delivery, "invoice_number")
    )

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

    def clean(self):
        data = super().clean()
        if data.get("quantity") and data.get("actual_unit_cost") is None:
            self.add_error("actual_unit_cost", _("Give the price paid for the items delivered."))
        return data


DeliveryLineFormSet = forms.formset_factory(DeliveryLineForm, extra=0, max_num=200, absolute_max=200)


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
