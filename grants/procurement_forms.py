"""Forms of the procurement pages; limits come from the model fields."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import IBAN_LENGTH_LIMIT, ConflictDeclaration, Supplier, SupplierQuote, max_length


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=max_length(Supplier, "name"))
    tax_number = forms.CharField(label=_("Tax number"), max_length=max_length(Supplier, "tax_number"))
    address = forms.CharField(label=_("Address"), max_length=max_length(Supplier, "address"))
    # Room for the spaces people type between the groups of four.
    iban = forms.CharField(label=_("Bank account (IBAN)"), max_length=IBAN_LENGTH_LIMIT)


class SupplierFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Vetting status"), required=False, choices=[("", _("All"))] + list(Supplier.Status.choices)
    )
    q = forms.CharField(label=_("Name or tax number"), required=False, max_length=100)


class VetForm(forms.Form):
    status = forms.ChoiceField(label=_("Vetting status"), choices=Supplier.Status.choices)


class ConflictForm(forms.Form):
    note = forms.CharField(
        label=_("What ties you to this supplier"),
        required=False,
        max_length=max_length(ConflictDeclaration, "note"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QuoteForm(forms.Form):
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    supplier = forms.TypedChoiceField(label=_("Supplier (vetted)"), coerce=int)
    unit_price = forms.DecimalField(label=_("Price per unit"), max_digits=14, decimal_places=2, min_value=0)
    quoted_on = forms.DateField(label=_("Quote date"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(label=_("The quote (PDF or scan)"))

    def __init__(self, *args, items=(), suppliers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(item.pk, item.description) for item in items]
        self.fields["supplier"].choices = [(s.pk, f"{s.name} ({s.tax_number})") for s in suppliers]
        self.fields["quoted_on"].initial = timezone.localdate()


class ChooseForm(forms.Form):
    justification = forms.CharField(
        label=_("Why this quote (required when it is not the cheapest)"),
        required=False,
        max_length=max_length(SupplierQuote, "justification"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
