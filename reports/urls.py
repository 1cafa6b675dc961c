from django.urls import path

from . import views

urlpatterns = [
    path("finance/", views.budget, name="finance-budget"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/indicators/", views.indicator_progress, name="indicator-progress"),
    path("reports/donor/", views.donor_reports, name="donor-reports"),
    path("reports/donor/download/", views.donor_report_download, name="donor-report-download"),
]
