from django.urls import path

from .views import audit, finance, manager

urlpatterns = [
    path("applications/<int:pk>/deliveries/new/", finance.delivery_new, name="delivery-new"),
    path("applications/<int:pk>/ledger/", finance.application_ledger, name="application-ledger-page"),
    path("programmes/", manager.programmes, name="programme-list"),
    path("audit/", audit.audit_trail, name="audit-trail"),
    path("finance/deliveries/", finance.deliveries, name="finance-deliveries"),
    path("finance/commitments/", finance.commitments, name="finance-commitments"),
]
