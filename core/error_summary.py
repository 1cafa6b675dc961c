"""The error summary every page shows at the top after a failed submit (GOV.UK's
pattern): one line per error, each field's linked to the field, found in the page's own
context (its bound forms and formsets, the `errors` a refused service gave and the error
messages of a redirect after a refusal), so that
no page can forget it. `base.html` renders it first thing in <main>; static/js/app.js
moves the focus to it (and so scrolls it into view)."""

from django import template
from django.contrib.messages import ERROR
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet

register = template.Library()


def _form_lines(form):
    lines = [{"text": str(error)} for error in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__" or name not in form.fields:
            continue
        field = form[name]
        # A hidden field has nothing to look at: said without a link. A group of boxes
        # (radio buttons, checkboxes) is linked by its first box.
        target = (
            "" if field.is_hidden else field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else "")
        )
        label = field.label or ""
        for error in errors:
            text = f"{label}: {error}" if label else str(error)
            lines.append({"text": text, "href": f"#{target}" if target else ""})
    return lines


def summary_lines(values):
    """The summary's lines from a page's context values, each form's once."""
    lines, seen = [], set()
    for value in values:
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, BaseForm) and value.is_bound:
            lines += _form_lines(value)
        elif isinstance(value, BaseFormSet) and value.is_bound:
            lines += [{"text": str(error)} for error in value.non_form_errors()]
            for form in value.forms:
                lines += _form_lines(form)
    return lines


@register.inclusion_tag("includes/errors.html", takes_context=True)
def error_summary(context):
    flat = context.flatten()
    # A refusal told after a redirect (messages.error) is an error of this page too.
    lines = [{"text": str(m)} for m in flat.get("messages") or () if m.level == ERROR]
    lines += [{"text": str(error)} for error in flat.get("errors") or ()]
    lines += summary_lines(flat.values())
    # A sentence given twice (a refusal also added to its form) is said once.
    unique = []
    for line in lines:
        if line["text"] not in {u["text"] for u in unique}:
            unique.append(line)
    return {"error_lines": unique}
