from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("applicants/", views.applicant_list, name="applicant-list"),
    path("applicants/new/", views.register, name="applicant-register"),
]
