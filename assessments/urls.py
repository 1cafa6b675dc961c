from django.urls import path

from . import views

urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("cohorts/", views.cohort_list, name="cohort-list"),
    path("cohorts/new/", views.cohort_new, name="cohort-new"),
    path("cohorts/<int:pk>/", views.cohort_detail, name="cohort-detail"),
    path("cohorts/<int:pk>/attendance/", views.attendance_save, name="cohort-attendance"),
    path("cohorts/<int:pk>/enrol/", views.cohort_enrol, name="cohort-enrol"),
    path("cohorts/<int:pk>/enrol-person/", views.cohort_enrol_person, name="cohort-enrol-person"),
    path("cohorts/<int:pk>/headcount/", views.cohort_headcount, name="cohort-headcount"),
    path("enrolments/<int:pk>/certificate/", views.enrolment_certificate, name="enrolment-certificate"),
    path("meetings/", views.meeting_list, name="meeting-list"),
    path("meetings/new/", views.meeting_new, name="meeting-new"),
    path("applications/<int:pk>/enrol/", views.application_enrol, name="application-enrol"),
    path("applications/<int:pk>/assessment/", views.assessment_form, name="assessment-form"),
    path("visits/<int:pk>/record/", views.visit_form, name="visit-form"),
]
