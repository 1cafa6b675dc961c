"""`{{ programme|label_for:request.user }}`: a programme's or centre's name, or its public
label for a role that must not read names that reveal prison or return."""

from django import template

register = template.Library()


@register.filter
def label_for(place, user):
    return place.label_for(user) if place is not None else ""
