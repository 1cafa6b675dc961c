"""The complaint forms: the public one (anyone, no account), the signed-in applicant's,
and staff recording a complaint made by phone, in a visit or by letter. Limits come from
the model fields."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from applicants.models import IntegrationCentre

from .models import STAFF_CHANNELS, Category, Complaint, ComplaintNote

F = Complaint._meta.get_field


class CentreChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class BaseComplaintForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What is it about?"), choices=Category.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("What happened?"),
        max_length=F("description").max_length,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Say what happened, when and where. You do not need to name anyone."),
    )
    attachment = forms.FileField(
        label=_("A file (optional)"),
        required=False,
        help_text=_("A photo or document: PDF, JPEG, PNG, DOCX or ODT."),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("category") != Category.SAFEGUARDING
            and "centre" in self.fields
            and not data.get("centre")
        ):
            self.add_error("centre", _("Choose the centre the complaint is about."))
        return data


class PublicComplaintForm(BaseComplaintForm):
    centre = CentreChoice(
        label=_("Which centre is it about?"),
        queryset=IntegrationCentre.objects.order_by("name"),
        required=False,
        help_text=_("Not needed for misconduct of a sexual nature or abuse of power."),
    )
    name = forms.CharField(label=_("Your name (optional)"), max_length=F("name").max_length, required=False)
    email = forms.EmailField(
        label=_("Your email (optional)"), max_length=F("email").max_length, required=False
    )
    phone = forms.CharField(
        label=_("Your phone (optional)"), max_length=F("phone").max_length, required=False
    )
    # The honeypot: hidden from people by the page, filled in by robots.
    website = forms.CharField(required=False, label=_("Leave this empty"))
    started = forms.CharField(widget=forms.HiddenInput)

    field_order = ["category", "centre", "description", "attachment", "name", "email", "phone"]


class ApplicantComplaintForm(BaseComplaintForm):
    application = forms.ModelChoiceField(
        label=_("Which application is it about? (optional)"), queryset=None, required=False
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications
        self.fields["application"].label_from_instance = lambda a: f"#{a.pk} {a.business_name}"


class StaffComplaintForm(BaseComplaintForm):
    channel = forms.ChoiceField(
        label=_("How was it made?"), choices=[(c.value, c.label) for c in STAFF_CHANNELS]
    )
    centre = CentreChoice(label=_("Centre"), queryset=None, required=False)
    application = forms.IntegerField(label=_("Application number (optional)"), required=False, min_value=1)
    about_user = forms.ModelChoiceField(
        label=_("Staff member it is about (optional)"), queryset=None, required=False
    )
    name = forms.CharField(label=_("Their name (optional)"), max_length=F("name").max_length, required=False)
    email = forms.EmailField(
        label=_("Their email (optional)"), max_length=F("email").max_length, required=False
    )
    phone = forms.CharField(
        label=_("Their phone (optional)"), max_length=F("phone").max_length, required=False
    )

    field_order = ["channel", "category", "centre", "application", "about_user", "description", "attachment"]

    def __init__(self, *args, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        self.fields["about_user"].queryset = (
            get_user_model()
            .objects.filter(assignments__centre__in=centres, is_active=True)
            .distinct()
            .order_by("username")
        )
        self.fields["about_user"].label_from_instance = lambda u: u.get_full_name() or u.username


class FollowUpForm(forms.Form):
    reference = forms.CharField(label=_("Reference"), max_length=20, help_text=_("For example C-2026-000123"))
    code = forms.CharField(label=_("Code"), max_length=20)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=ComplaintNote._meta.get_field("text").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResolveForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome, as the person will be told"),
        max_length=F("outcome").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
