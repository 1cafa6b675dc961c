"""The programme's scoring rubric, edited in the admin as part of the programme.

grants.admin registers Programme; its page gets the rubric inline here, so that grants
does not depend on assessments. Criteria already used by a score cannot be deleted
(the admin says which scores hold them); weights may change, and the approve guard
computes the score from the rubric as it is then."""

import re

from django import forms
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.utils.translation import gettext_lazy as _

from grants.models import Programme

from .models import RubricCriterion

CODE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


class RubricCriterionForm(forms.ModelForm):
    class Meta:
        model = RubricCriterion
        fields = ["position", "criterion", "label", "weight"]
        help_texts = {
            "criterion": _("Short code used by the API (viability, skills, market, need, commitment ...)."),
            "weight": _("Relative weight; the score is the weighted mean of the 1–5 scores."),
        }

    def clean_criterion(self):
        code = self.cleaned_data["criterion"].strip().lower()
        if not CODE.match(code):
            raise forms.ValidationError(
                _("Use lower-case letters, digits and _ only, starting with a letter.")
            )
        return code


class RubricCriterionInline(admin.TabularInline):
    model = RubricCriterion
    form = RubricCriterionForm
    extra = 0
    min_num = 1
    validate_min = True
    ordering = ["position", "id"]
    verbose_name = _("rubric criterion")
    verbose_name_plural = _("scoring rubric (scores 1–5; the pass mark is the programme's)")


try:
    programme_admin = admin.site.get_model_admin(Programme)
except NotRegistered:
    programme_admin = None
    admin.site.register(Programme, inlines=[RubricCriterionInline])
if programme_admin is not None and RubricCriterionInline not in programme_admin.inlines:
    programme_admin.inlines = [*programme_admin.inlines, RubricCriterionInline]
