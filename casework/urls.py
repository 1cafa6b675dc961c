from django.urls import path

from . import application_page, applications, cooperatives, selection, transfers

urlpatterns = [
    path("", applications.home, name="home"),
    path("my/applications/", applications.my_applications, name="my-applications"),
    path("applications/", applications.inbox, name="inbox"),
    path("applications/new/", applications.application_new, name="application-new"),
    path("applications/<int:pk>/", application_page.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", applications.application_edit, name="application-edit"),
    path(
        "applications/<int:pk>/channels/", application_page.application_channels, name="application-channels"
    ),
    path("applications/<int:pk>/referral-review/", application_page.referral_review, name="referral-review"),
    path("applications/<int:pk>/step/", application_page.application_transition, name="application-step"),
    path(
        "applications/<int:pk>/reassign/", application_page.application_reassign, name="application-reassign"
    ),
    path(
        "applications/<int:pk>/household-override/",
        selection.household_override,
        name="application-household-override",
    ),
    path("applications/<int:pk>/cooperative/", cooperatives.cooperative_save, name="application-cooperative"),
    path("applications/<int:pk>/members/", cooperatives.member_add, name="application-member-add"),
    path(
        "applications/<int:pk>/members/<int:applicant_id>/remove/",
        cooperatives.member_remove,
        name="application-member-remove",
    ),
    path("applications/<int:pk>/documents/", application_page.document_upload, name="document-upload"),
    path("documents/<int:pk>/", application_page.document_download, name="document-download-page"),
    path("transfers/", transfers.transfer_list, name="transfer-list"),
    path("transfers/request/", transfers.transfer_request, name="transfer-request"),
    path("transfers/<int:pk>/decide/", transfers.transfer_decide, name="transfer-decide"),
    path("applicants/<int:pk>/move/", transfers.person_move, name="person-move"),
]
