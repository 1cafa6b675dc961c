"""Forms for signing up and for registering a person. They check the shape of the input;
applicants.services.clean_registration applies the rules (and names the field it refuses)."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError

from . import referral_institutions
from .consent import ETHNICITY, PRISON, RETURN, special_wording
from .models import (
    WG_DOMAINS,
    Applicant,
    ApplicantSensitive,
    Institution,
    IntegrationCentre,
    Language,
    ReferralInstitution,
    Sex,
    TargetGroup,
    WashingtonGroupAnswer,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _wg_question(domain):
    return forms.TypedChoiceField(
        label=capfirst(ApplicantSensitive._meta.get_field(domain).verbose_name),
        choices=[("", _("Not answered")), *WashingtonGroupAnswer.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )


class PersonForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DATE)
    sex = forms.ChoiceField(
        label=_("Sex (as you state it, optional)"),
        choices=[("", _("Not given")), *Sex.choices],
        required=False,
    )
    # The Washington Group Short Set: health data, asked only with its own consent
    # (applicants.services.clean_disability_answers refuses answers without it).
    consent_disability = forms.BooleanField(
        label=_(
            "Agrees to answer six questions about difficulties in daily activities "
            "(optional; health data, stored apart and counted only in anonymous figures)."
        ),
        required=False,
    )
    wg_seeing = _wg_question("wg_seeing")
    wg_hearing = _wg_question("wg_hearing")
    wg_walking = _wg_question("wg_walking")
    wg_remembering = _wg_question("wg_remembering")
    wg_self_care = _wg_question("wg_self_care")
    wg_communicating = _wg_question("wg_communicating")
    DISABILITY = ("consent_disability", *WG_DOMAINS)
    phone = forms.CharField(
        label=_("Phone"), max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    municipality = forms.CharField(label=_("Municipality"), max_length=100, required=False)
    centre = forms.ModelChoiceField(label=_("Integration centre"), queryset=IntegrationCentre.objects.none())
    target_groups = forms.MultipleChoiceField(
        label=_("Which of these describes you?"),
        choices=TargetGroup.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    household_size = forms.IntegerField(
        label=_("People in the household"), min_value=1, max_value=50, initial=1
    )
    dependants = forms.IntegerField(
        label=_("Of them, people who depend on you"), min_value=0, max_value=49, initial=0
    )
    channels = forms.MultipleChoiceField(
        label=_("How may we send news about the application?"),
        choices=[("email", _("Email")), ("sms", _("SMS to the phone above"))],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["email"],
        help_text=_("Choose none to receive no news. An SMS can be stopped at any time by replying STOP."),
    )

    def __init__(self, *args, centres=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres if centres is not None else IntegrationCentre.objects.all()
        self.fields["centre"].label_from_instance = lambda centre: f"{centre.name} ({centre.country.name})"

    def channel_choice(self):
        """The channels chosen, as register_applicant takes them."""
        chosen = self.cleaned_data.get("channels") or []
        return {"accepts_email": "email" in chosen, "accepts_sms": "sms" in chosen}

    def disability_answers(self):
        """The Washington Group answers given ({domain: 1..4})."""
        return {d: self.cleaned_data[d] for d in WG_DOMAINS if self.cleaned_data.get(d) is not None}

    # The special-category consents this form asks, each its own optional tick box
    # (`consent_<purpose>`), labelled with the wording the record keeps.
    SPECIAL_CONSENTS = ()

    def add_special_consents(self):
        for purpose in self.SPECIAL_CONSENTS:
            self.fields[f"consent_{purpose}"] = forms.BooleanField(
                label=special_wording(purpose), required=False
            )

    def special_consent_fields(self):
        return [self[f"consent_{purpose}"] for purpose in self.SPECIAL_CONSENTS]

    def special_consents(self):
        return {p for p in self.SPECIAL_CONSENTS if self.cleaned_data.get(f"consent_{p}")}

    def add_service_error(self, exc):
        """Put a ServiceError's message on the field it names, else on the form."""
        placed = False
        for field, messages in getattr(exc, "details", {}).items():
            field = "channels" if field in ("accepts_email", "accepts_sms") else field
            if field in self.fields:
                for message in messages:
                    self.add_error(field, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


class SignUpForm(PersonForm):
    """No user name to choose: the account gets one (applicants.views), so signing up
    never tells anyone whether a name, a staff member's say, exists."""

    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not only digits."),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent = forms.BooleanField(
        label=_("I have read the text above and agree that my data is used this way."),
        error_messages={"required": _("We can only register you if you agree.")},
    )

    field_order = [
        "first_name",
        "last_name",
        "date_of_birth",
        "sex",
        "phone",
        "email",
        "channels",
        "municipality",
        "centre",
        "target_groups",
        "household_size",
        "dependants",
        "consent_disability",
        *WG_DOMAINS,
        "password1",
        "password2",
        "consent",
    ]

    LOGIN_FIELDS = ("password1", "password2", "consent")
    SPECIAL_CONSENTS = (PRISON, RETURN)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_special_consents()

    def person_fields(self):
        skip = {*self.LOGIN_FIELDS, *(f"consent_{p}" for p in self.SPECIAL_CONSENTS)}
        return [self[name] for name in self.fields if name not in skip]

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            probe = get_user_model()(
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class RegisterApplicantForm(PersonForm):
    """The short form an officer fills in with the person. The sensitive facts are
    optional and stored apart (applicants.sensitivity)."""

    national_id = forms.CharField(label=_("National ID number (optional)"), max_length=30, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=Applicant._meta.get_field("address").max_length, required=False
    )
    household_ref = forms.CharField(
        label=_("Household reference (optional)"),
        max_length=Applicant._meta.get_field("household_ref").max_length,
        required=False,
        help_text=Applicant._meta.get_field("household_ref").help_text,
    )
    language = forms.ChoiceField(label=_("Language for letters"), choices=Language.choices)
    consent_given = forms.BooleanField(
        label=_("The person has read (or heard) the consent text and agrees."),
        error_messages={"required": _("The applicant's consent is needed before their data is stored.")},
    )
    returned_from = forms.CharField(label=_("Country returned from"), max_length=100, required=False)
    return_date = forms.DateField(label=_("Return date"), required=False, widget=DATE)
    referral = forms.ChoiceField(label=_("Referring institution"), required=False)
    referral_other = forms.CharField(
        label=_("Referring institution, if “other”"),
        max_length=referral_institutions.OTHER_MAX_LENGTH,
        required=False,
        help_text=referral_institutions.OTHER_WARNING,
    )
    release_month = forms.DateField(
        label=_("Release month"),
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    ethnicity = forms.CharField(
        label=_("Ethnicity (only if the person wants to say)"), max_length=100, required=False
    )

    field_order = [
        "first_name",
        "last_name",
        "date_of_birth",
        "sex",
        "phone",
        "national_id",
        "email",
        "municipality",
        "address",
        "centre",
        "target_groups",
        "household_size",
        "household_ref",
        "dependants",
        "language",
        "channels",
        "consent_given",
    ]
    SENSITIVE = (
        "returned_from",
        "return_date",
        "referral",
        "referral_other",
        "release_month",
        "ethnicity",
        *PersonForm.DISABILITY,
    )
    SPECIAL_CONSENTS = (PRISON, RETURN, ETHNICITY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_special_consents()
        self.fields["target_groups"].label = _("Target groups")
        self.fields["household_size"].label = _("People in the household")
        self.fields["dependants"].label = _("Dependants")
        self.fields["sex"].label = _("Sex (as the person states it, optional)")
        self.fields["referral"].choices = referral_choices()

    def clean(self):
        data = super().clean()
        try:
            referral_institutions.clean_referral(
                institutions=ReferralInstitution.objects.filter(active=True),
                referral=data.get("referral"),
                other=data.get("referral_other", ""),
            )
        except ServiceError as refused:
            for field, messages in refused.details.items():
                for message in messages:
                    self.add_error(field, message)
        return data

    def clean_release_month(self):
        value = self.cleaned_data.get("release_month")
        return value.replace(day=1) if value else value

    def ordinary_fields(self):
        skip = {*self.SENSITIVE, *(f"consent_{p}" for p in self.SPECIAL_CONSENTS)}
        return [self[name] for name in self.fields if name not in skip]

    def sensitive_fields(self):
        return [self[name] for name in self.SENSITIVE]

    def sensitive(self):
        return {
            name: self.cleaned_data.get(name)
            for name in self.SENSITIVE
            if self.cleaned_data.get(name) and name != "consent_disability"
        }


class ApplicantSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by name or phone"), max_length=100, required=False)
    # An institution's contact person speaks for it, they are not a grantee: listed with
    # their institution, and here only when asked for.
    contacts = forms.BooleanField(label=_("Show institutions' contact people too"), required=False)


class RegisterInstitutionForm(forms.Form):
    """An institution and its contact person. No target group, no sensitive fact and no
    special consent is asked: an institution has none (applicants.institutions)."""

    name = forms.CharField(label=_("Name of the institution"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Institution.Kind.choices)
    registration_number = forms.CharField(
        label=_("Registration number (optional)"), max_length=50, required=False
    )
    centre = forms.ModelChoiceField(label=_("Integration centre"), queryset=IntegrationCentre.objects.none())
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    municipality = forms.CharField(label=_("Municipality"), max_length=100, required=False)
    contact_first_name = forms.CharField(label=_("Contact person's first name"), max_length=100)
    contact_last_name = forms.CharField(label=_("Contact person's last name"), max_length=100)
    contact_date_of_birth = forms.DateField(
        label=_("Contact person's date of birth"),
        widget=DATE,
        help_text=_("They sign the contract and the handover protocol for the institution."),
    )
    contact_phone = forms.CharField(
        label=_("Contact person's phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    contact_email = forms.EmailField(label=_("Contact person's email (optional)"), required=False)
    contact_language = forms.ChoiceField(label=_("Contact person's language"), choices=Language.choices)
    consent_given = forms.BooleanField(
        label=_("The contact person agrees that their name and contact details are kept for this grant."),
        required=False,
    )

    def __init__(self, *args, centres=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres if centres is not None else IntegrationCentre.objects.none()
        self.fields["centre"].label_from_instance = lambda centre: f"{centre.name} ({centre.country.name})"

    def add_service_error(self, exc):
        """Put a ServiceError's message on the field it names, else on the form."""
        placed = False
        for field, messages in getattr(exc, "details", {}).items():
            if field in self.fields:
                for message in messages:
                    self.add_error(field, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


def referral_choices():
    return [
        ("", _("None")),
        *[
            (str(pk), name)
            for pk, name in ReferralInstitution.objects.filter(active=True).values_list("pk", "name")
        ],
        (referral_institutions.OTHER, _("Other (write its name below)")),
    ]


class ReferralReviewForm(forms.Form):
    """A programme manager chooses the institution that a free-text referral names."""

    referral = forms.ChoiceField(label=_("Referring institution"), required=False)
    referral_other = forms.CharField(
        label=_("Referring institution, if “other”"),
        max_length=referral_institutions.OTHER_MAX_LENGTH,
        required=False,
        help_text=referral_institutions.OTHER_WARNING,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral"].choices = referral_choices()
