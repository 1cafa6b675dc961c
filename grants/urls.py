from django.urls import path

from .views import contracts, finance, manager

urlpatterns = [
    path("applications/<int:pk>/deliveries/new/", finance.delivery_new, name="delivery-new"),
    path("applications/<int:pk>/ledger/", finance.application_ledger, name="application-ledger-page"),
    path(
        "applications/<int:pk>/contributions/new/", contracts.contribution_new, name="contribution-new-page"
    ),
    path("contributions/<int:pk>/reverse/", contracts.contribution_reverse, name="contribution-reverse-page"),
    path("applications/<int:pk>/registration/", contracts.registration, name="registration-page"),
    path("programmes/", manager.programmes, name="programme-list"),
    path("finance/deliveries/", finance.deliveries, name="finance-deliveries"),
    path("finance/commitments/", finance.commitments, name="finance-commitments"),
]
