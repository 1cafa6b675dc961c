from django.urls import path

from .views import audit, contracts, finance, manager, procurement, sms

urlpatterns = [
    path("sms/callbacks/delivery-report/", sms.delivery_report, name="sms-delivery-report"),
    path("sms/callbacks/inbound/", sms.inbound, name="sms-inbound"),
    path("applications/<int:pk>/deliveries/new/", finance.delivery_new, name="delivery-new"),
    path(
        "applications/<int:pk>/cost-reapproval/", finance.cost_reapproval, name="application-cost-reapproval"
    ),
    path("applications/<int:pk>/ledger/", finance.application_ledger, name="application-ledger-page"),
    path(
        "applications/<int:pk>/contributions/new/", contracts.contribution_new, name="contribution-new-page"
    ),
    path("contributions/<int:pk>/reverse/", contracts.contribution_reverse, name="contribution-reverse-page"),
    path("applications/<int:pk>/registration/", contracts.registration, name="registration-page"),
    path("programmes/", manager.programmes, name="programme-list"),
    path("audit/", audit.audit_trail, name="audit-trail"),
    path("finance/deliveries/", finance.deliveries, name="finance-deliveries"),
    path("finance/commitments/", finance.commitments, name="finance-commitments"),
    path("procurement/", procurement.overview, name="procurement"),
    path("procurement/suppliers/", procurement.suppliers, name="procurement-suppliers"),
    path("procurement/suppliers/new/", procurement.supplier_edit, name="procurement-supplier-new"),
    path("procurement/suppliers/<int:pk>/", procurement.supplier_detail, name="procurement-supplier"),
    path("procurement/suppliers/<int:pk>/edit/", procurement.supplier_edit, name="procurement-supplier-edit"),
    path("procurement/suppliers/<int:pk>/vet/", procurement.supplier_vet, name="procurement-supplier-vet"),
    path(
        "procurement/suppliers/<int:pk>/conflict/",
        procurement.supplier_conflict,
        name="procurement-supplier-conflict",
    ),
    path("procurement/grants/<int:pk>/", procurement.grant, name="procurement-grant"),
    path(
        "procurement/grants/<int:pk>/orders/<int:supplier_pk>/",
        procurement.order_create,
        name="procurement-order-create",
    ),
    path("procurement/quotes/<int:pk>/choose/", procurement.quote_choose, name="procurement-quote-choose"),
    path("procurement/orders/", procurement.purchase_orders, name="procurement-orders"),
    path("procurement/orders/<int:pk>/approve/", procurement.order_approve, name="procurement-order-approve"),
    path("procurement/orders/<int:pk>.pdf", procurement.order_pdf, name="procurement-order-pdf"),
    path("finance/assets/", finance.assets, name="finance-assets"),
]
