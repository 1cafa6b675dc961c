from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def home(request):
    applications = selectors.application_list(request.user)[:50]
    return render(request, "grants/home.html", {"applications": applications})
