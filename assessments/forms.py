"""Forms for what field officers record: cohorts, enrolment, assessments and visits."""

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import Sex
from grants.models import max_length

from .models import (
    MAX_VISIT_PHOTOS,
    Assessment,
    MonitoringVisit,
    RubricCriterion,
    TrainingCohort,
    TrainingMeeting,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SCORES = [(n, str(n)) for n in range(1, 6)]


def criterion_label(criterion):
    """The standard criteria in the reader's language; a programme's own criterion as
    its manager wrote it."""
    return (
        RubricCriterion.Code(criterion.criterion).label
        if criterion.criterion in RubricCriterion.Code.values
        else criterion.label
    )


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files in one input (Django's documented pattern); their type and size are
    checked by the upload service, as every document's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", PhotosInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _not_future(value, message):
    if value and value > timezone.localdate():
        raise forms.ValidationError(message)
    return value


class CohortForm(forms.Form):
    title = forms.CharField(label=_("Course title"), max_length=max_length(TrainingCohort, "title"))
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=None)
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=None)

    def __init__(self, *args, programmes, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
        self.fields["centre"].queryset = centres


class SessionForm(forms.Form):
    date = forms.DateField(label=_("Session date"), widget=DATE)


class BaseSessionFormSet(forms.BaseFormSet):
    def dates(self):
        return sorted({f.cleaned_data["date"] for f in self.forms if f.cleaned_data.get("date")})

    def clean(self):
        super().clean()
        if not any(self.errors) and not self.dates():
            raise forms.ValidationError(_("Give the date of at least one session."))


SessionFormSet = forms.formset_factory(
    SessionForm, formset=BaseSessionFormSet, extra=0, max_num=60, absolute_max=60
)


class EnrolForm(forms.Form):
    application = forms.TypedChoiceField(label=_("Application"), coerce=int)

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].choices = [
            (a.pk, f"#{a.pk} {a.applicant.full_name}: {a.business_name}") for a in applications
        ]


class DirectEnrolForm(forms.Form):
    """Enrol a registered person who has not applied for a grant: training as a service."""

    applicant = forms.TypedChoiceField(label=_("Registered person"), coerce=int)

    def __init__(self, *args, applicants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applicant"].choices = [(a.pk, a.full_name) for a in applicants]


def _band_slug(band):
    """A field name's part for an age band key ("<15", "15-24", "50+"; blank)."""
    return band.replace("<", "under").replace("+", "plus").replace("-", "_") or "unknown"


class HeadcountForm(forms.Form):
    """How many took part in one session, counted without names, by sex and age band
    (the programme's bands; "not recorded" for either), as the API records them
    (`services.record_headcount`). `total`, when given, is checked against the cells."""

    session = forms.TypedChoiceField(label=_("Session"), coerce=int)
    total = forms.IntegerField(
        label=_("Participants in all"),
        help_text=_("Optional: the number counted at the door, checked against the counts below."),
        min_value=0,
        max_value=1000,
        required=False,
    )

    def __init__(self, *args, sessions, bands, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [(s.pk, formats.date_format(s.date)) for s in sessions]
        self.sexes = [*Sex.choices, ("", _("Not recorded"))]
        self.bands = [*bands, ("", _("Not recorded"))]
        self.grid = []
        for band, band_label in self.bands:
            cells = []
            for sex, sex_label in self.sexes:
                name = self.cell_name(sex, band)
                self.fields[name] = forms.IntegerField(
                    label=f"{sex_label}, {band_label}", min_value=0, max_value=1000, initial=0, required=False
                )
                cells.append(name)
            self.grid.append((band_label, cells))

    @staticmethod
    def cell_name(sex, band):
        return f"count_{sex or 'unknown'}_{_band_slug(band)}"

    def grid_rows(self):
        """(band label, [bound field per sex]) for the table of the template."""
        return [(label, [self[name] for name in cells]) for label, cells in self.grid]

    def counts(self):
        return {
            (sex, band): self.cleaned_data.get(self.cell_name(sex, band)) or 0
            for band, _band_label in self.bands
            for sex, _sex_label in self.sexes
        }

    def clean(self):
        cleaned = super().clean()
        total = cleaned.get("total")
        if total is not None and not self.errors:
            counted = sum(self.counts().values())
            if counted != total:
                self.add_error(
                    "total",
                    _("The counts add up to %(sum)d, not to the %(total)d participants in all.")
                    % {"sum": counted, "total": total},
                )
        return cleaned


class MeetingForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=None)
    centre = forms.ModelChoiceField(label=_("Centre"), queryset=None)
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    kind = forms.ChoiceField(label=_("Kind"), choices=TrainingMeeting.Kind.choices)
    participants = forms.IntegerField(label=_("Participants"), min_value=0, max_value=1000)

    def __init__(self, *args, programmes, centres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
        self.fields["centre"].queryset = centres


class CohortChoiceForm(forms.Form):
    cohort = forms.TypedChoiceField(label=_("Training course"), coerce=int)

    def __init__(self, *args, cohorts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [(c.pk, str(c)) for c in cohorts]


class AssessmentForm(forms.Form):
    """One 1-5 score per criterion of the programme's rubric, then the recommendation."""

    site_visit_on = forms.DateField(label=_("Date of the site visit"), required=False, widget=DATE)
    notes = forms.CharField(
        label=_("What you saw at the site"),
        required=False,
        max_length=max_length(Assessment, "notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), choices=Assessment.Recommendation.choices, widget=forms.RadioSelect
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=max_length(Assessment, "reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, rubric, **kwargs):
        super().__init__(*args, **kwargs)
        self.rubric = list(rubric)
        scores = {}
        for criterion in self.rubric:
            scores[f"score_{criterion.criterion}"] = forms.TypedChoiceField(
                label=criterion_label(criterion),
                choices=SCORES,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "scale"}),
                help_text=_("1 = very weak, 5 = very strong (weight %(weight)s)")
                % {"weight": criterion.weight},
            )
        self.fields = {**scores, **self.fields}

    def clean_site_visit_on(self):
        return _not_future(
            self.cleaned_data.get("site_visit_on"), _("The site visit cannot be in the future.")
        )

    def score_fields(self):
        return [self[f"score_{c.criterion}"] for c in self.rubric]

    def scores(self):
        return {c.criterion: self.cleaned_data[f"score_{c.criterion}"] for c in self.rubric}


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Visited on"), widget=DATE)
    operating = forms.TypedChoiceField(
        label=_("Is the business operating?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    equipment_in_use = forms.TypedChoiceField(
        label=_("Is the equipment in use?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    monthly_revenue = forms.DecimalField(
        label=_("Money coming in per month"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    jobs_owner = forms.IntegerField(label=_("Jobs: the owner"), min_value=0, max_value=1000, initial=1)
    jobs_family = forms.IntegerField(label=_("Jobs: family members"), min_value=0, max_value=1000, initial=0)
    jobs_employees = forms.IntegerField(label=_("Jobs: employees"), min_value=0, max_value=1000, initial=0)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=max_length(MonitoringVisit, "notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    photos = PhotosField(label=_("Photos of the business"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = _(
            "Up to %(count)s photos, JPEG or PNG; their location and camera data are removed."
        ) % {"count": MAX_VISIT_PHOTOS}
        if not self.is_bound and not self.initial.get("visited_on"):
            self.initial["visited_on"] = timezone.localdate()

    def clean_visited_on(self):
        return _not_future(self.cleaned_data.get("visited_on"), _("A visit cannot be dated in the future."))
