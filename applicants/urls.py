from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("applicants/", views.applicant_list, name="applicant-list"),
    path("applicants/new/", views.register, name="applicant-register"),
    path("applicants/duplicates/", views.duplicate_list, name="duplicate-list"),
    path("institutions/", views.institution_list, name="institution-list"),
    path("institutions/new/", views.institution_register, name="institution-register"),
    path("applicants/duplicates/<int:pk>/", views.duplicate_decide, name="duplicate-decide"),
]
