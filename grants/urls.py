from django.urls import path

from .views import finance, manager

urlpatterns = [
    path("applications/<int:pk>/deliveries/new/", finance.delivery_new, name="delivery-new"),
    path(
        "applications/<int:pk>/cost-reapproval/", finance.cost_reapproval, name="application-cost-reapproval"
    ),
    path("applications/<int:pk>/ledger/", finance.application_ledger, name="application-ledger-page"),
    path("programmes/", manager.programmes, name="programme-list"),
    path("finance/deliveries/", finance.deliveries, name="finance-deliveries"),
    path("finance/commitments/", finance.commitments, name="finance-commitments"),
    path("finance/assets/", finance.assets, name="finance-assets"),
]
