from django.urls import path

from . import views

urlpatterns = [
    path("finance/", views.budget, name="finance-budget"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
