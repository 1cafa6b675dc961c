from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from applicants import api as applicants_api
from applicants import institution_api
from assessments import api as assessments_api
from complaints import api as complaints_api
from field import api as field_api
from grants import api as grants_api
from grants import api_procurement, contract_api, referral_api, transfer_api
from grants import audit_api as grants_audit_api
from grants import selection_api as grants_selection_api
from integrations import api as integrations_api
from privacy import views as privacy_views
from reports import api as reports_api
from selection import api as selection_api

from . import auth_api, health

api_v1 = [
    path("auth/token/", auth_api.ObtainToken.as_view(), name="token"),
    path("auth/token/revoke/", auth_api.RevokeCurrentToken.as_view(), name="token-revoke"),
    path("auth/tokens/", auth_api.TokenList.as_view(), name="tokens"),
    path("auth/tokens/<int:pk>/", auth_api.TokenDetail.as_view(), name="token-detail"),
    path("me/", applicants_api.Me.as_view(), name="me"),
    path("webhooks/", integrations_api.EndpointList.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", integrations_api.EndpointDetail.as_view(), name="webhook"),
    path("webhooks/<int:pk>/enable/", integrations_api.EndpointEnable.as_view(), name="webhook-enable"),
    path("webhooks/<int:pk>/deliveries/", integrations_api.DeliveryList.as_view(), name="webhook-deliveries"),
    path("intake/kobo/", integrations_api.KoboIntake.as_view(), name="intake-kobo"),
    path("intake/submissions/", integrations_api.SubmissionList.as_view(), name="intake-submissions"),
    path(
        "intake/submissions/<int:pk>/reapply/",
        integrations_api.SubmissionReapply.as_view(),
        name="intake-submission-reapply",
    ),
    path(
        "intake/submissions/<int:pk>/dismiss/",
        integrations_api.SubmissionDismiss.as_view(),
        name="intake-submission-dismiss",
    ),
    path("centres/", applicants_api.CentreList.as_view(), name="centres"),
    path("field/pack/", field_api.FieldPack.as_view(), name="field-pack"),
    path("field/session/", field_api.FieldSession.as_view(), name="field-session"),
    path("field/sync/", field_api.FieldSync.as_view(), name="field-sync"),
    path(
        "referral-institutions/",
        applicants_api.ReferralInstitutionList.as_view(),
        name="referral-institutions",
    ),
    path("programmes/", grants_api.ProgrammeList.as_view(), name="programmes"),
    path("applicants/", applicants_api.ApplicantListCreate.as_view(), name="applicants"),
    path("applicants/<int:pk>/", applicants_api.ApplicantDetail.as_view(), name="applicant"),
    path("institutions/", institution_api.InstitutionListCreate.as_view(), name="institutions"),
    path(
        "applicants/<int:pk>/channels/", applicants_api.ApplicantChannels.as_view(), name="applicant-channels"
    ),
    path(
        "applicants/possible-duplicates/",
        applicants_api.PossibleDuplicates.as_view(),
        name="applicant-possible-duplicates",
    ),
    path(
        "applicants/<int:pk>/transfer/", transfer_api.ApplicantTransfer.as_view(), name="applicant-transfer"
    ),
    path(
        "applicants/<int:pk>/referral/", applicants_api.ApplicantReferral.as_view(), name="applicant-referral"
    ),
    path("referrals/", referral_api.ReferralList.as_view(), name="referrals"),
    path("transfers/", transfer_api.TransferListCreate.as_view(), name="transfers"),
    path("transfers/<int:pk>/confirm/", transfer_api.TransferConfirm.as_view(), name="transfer-confirm"),
    path("transfers/<int:pk>/decline/", transfer_api.TransferDecline.as_view(), name="transfer-decline"),
    path("applicants/duplicates/", applicants_api.DuplicateFlagList.as_view(), name="applicant-duplicates"),
    path(
        "applicants/duplicates/<int:pk>/decision/",
        applicants_api.DuplicateDecision.as_view(),
        name="applicant-duplicate-decision",
    ),
    path("applications/", grants_api.ApplicationListCreate.as_view(), name="applications"),
    path("applications/<int:pk>/", grants_api.ApplicationDetail.as_view(), name="application"),
    path(
        "applications/<int:pk>/transitions/",
        grants_api.TransitionList.as_view(),
        name="application-transitions",
    ),
    path(
        "applications/<int:pk>/transitions/<str:name>/",
        grants_api.TransitionTake.as_view(),
        name="application-transition",
    ),
    path(
        "applications/<int:pk>/household-override/",
        grants_selection_api.HouseholdOverrideView.as_view(),
        name="application-household-override",
    ),
    path("applications/<int:pk>/history/", grants_api.History.as_view(), name="application-history"),
    path(
        "applications/<int:pk>/documents/",
        grants_api.DocumentListCreate.as_view(),
        name="application-documents",
    ),
    path("documents/<int:pk>/download/", grants_api.DocumentDownload.as_view(), name="document-download"),
    path("cohorts/", assessments_api.CohortListCreate.as_view(), name="cohorts"),
    path("cohorts/<int:pk>/enrollments/", assessments_api.Enrolments.as_view(), name="cohort-enrollments"),
    path("cohorts/<int:pk>/attendance/", assessments_api.AttendanceView.as_view(), name="cohort-attendance"),
    path("cohorts/<int:pk>/headcounts/", assessments_api.Headcounts.as_view(), name="cohort-headcounts"),
    path("meetings/", assessments_api.Meetings.as_view(), name="meetings"),
    path(
        "enrolments/<int:pk>/certificate/",
        assessments_api.EnrolmentCertificate.as_view(),
        name="enrolment-certificate",
    ),
    path(
        "cohorts/<int:pk>/attendance/sheet/",
        assessments_api.AttendanceSheet.as_view(),
        name="cohort-attendance-sheet",
    ),
    path(
        "applications/<int:pk>/assessment/",
        assessments_api.AssessmentView.as_view(),
        name="application-assessment",
    ),
    path(
        "applications/<int:pk>/deliveries/",
        grants_api.DeliveryListCreate.as_view(),
        name="application-deliveries",
    ),
    path(
        "applications/<int:pk>/cost-reapprovals/",
        grants_api.CostReapprovalListCreate.as_view(),
        name="application-cost-reapprovals",
    ),
    path("applications/<int:pk>/visits/", assessments_api.VisitList.as_view(), name="application-visits"),
    path("visits/due/", assessments_api.VisitsDue.as_view(), name="visits-due"),
    path("visits/<int:pk>/record/", assessments_api.VisitRecord.as_view(), name="visit-record"),
    path(
        "applications/<int:pk>/certificate/",
        assessments_api.Certificate.as_view(),
        name="application-certificate",
    ),
    path("approvals/", assessments_api.ApprovalsQueue.as_view(), name="approvals"),
    path("audit-events/", grants_audit_api.AuditTrail.as_view(), name="audit-events"),
    path("changes/", grants_audit_api.ChangeFeed.as_view(), name="changes"),
    path("reports/impact/", reports_api.ImpactReport.as_view(), name="report-impact"),
    path(
        "reports/impact/export.<str:fmt>",
        reports_api.ImpactExport.as_view(),
        name="report-impact-export",
    ),
    path("reports/budget/", reports_api.BudgetReport.as_view(), name="report-budget"),
    path("reports/indicators/", reports_api.IndicatorProgress.as_view(), name="report-indicators"),
    path("reports/donor-reports/", reports_api.DonorReports.as_view(), name="donor-reports"),
    path(
        "reports/donor-reports/download/",
        reports_api.DonorReportDownload.as_view(),
        name="donor-report-download",
    ),
    path(
        "reports/budget/export.<str:fmt>",
        reports_api.BudgetExport.as_view(),
        name="report-budget-export",
    ),
    path(
        "reports/ledger/export.<str:fmt>",
        reports_api.LedgerExport.as_view(),
        name="report-ledger-export",
    ),
    path(
        "applications/<int:pk>/ledger/",
        reports_api.ApplicationLedger.as_view(),
        name="application-ledger",
    ),
    path(
        "applications/<int:pk>/handover-protocol.pdf",
        reports_api.HandoverProtocol.as_view(),
        name="application-handover-protocol",
    ),
    path(
        "applications/<int:pk>/contract/", contract_api.ContractDetail.as_view(), name="application-contract"
    ),
    path(
        "applications/<int:pk>/contract.pdf",
        contract_api.ContractPdf.as_view(),
        name="application-contract-pdf",
    ),
    path(
        "applications/<int:pk>/contributions/",
        contract_api.ContributionListCreate.as_view(),
        name="application-contributions",
    ),
    path(
        "contributions/<int:pk>/reversal/",
        contract_api.ContributionReversal.as_view(),
        name="contribution-reversal",
    ),
    path(
        "applications/<int:pk>/registration/",
        contract_api.Registration.as_view(),
        name="application-registration",
    ),
    path("suppliers/", api_procurement.SupplierListCreate.as_view(), name="suppliers"),
    path("suppliers/<int:pk>/", api_procurement.SupplierDetail.as_view(), name="supplier"),
    path("suppliers/<int:pk>/vetting/", api_procurement.SupplierVetting.as_view(), name="supplier-vetting"),
    path(
        "suppliers/<int:pk>/conflicts/", api_procurement.SupplierConflict.as_view(), name="supplier-conflicts"
    ),
    path(
        "applications/<int:pk>/quotes/", api_procurement.QuoteListCreate.as_view(), name="application-quotes"
    ),
    path("quotes/<int:pk>/choose/", api_procurement.QuoteChoose.as_view(), name="quote-choose"),
    path(
        "applications/<int:pk>/purchase-orders/",
        api_procurement.GrantPurchaseOrderCreate.as_view(),
        name="application-purchase-orders",
    ),
    path("purchase-orders/", api_procurement.PurchaseOrderList.as_view(), name="purchase-orders"),
    path("purchase-orders/<int:pk>/", api_procurement.PurchaseOrderDetail.as_view(), name="purchase-order"),
    path(
        "purchase-orders/<int:pk>/approve/",
        api_procurement.PurchaseOrderApprove.as_view(),
        name="purchase-order-approve",
    ),
    path(
        "purchase-orders/<int:pk>.pdf", api_procurement.PurchaseOrderPdf.as_view(), name="purchase-order-pdf"
    ),
    path(
        "applications/<int:pk>/deliveries/<int:delivery>/handover-protocol.pdf",
        reports_api.DeliveryHandoverProtocol.as_view(),
        name="delivery-handover-protocol",
    ),
    path("programmes/<int:pk>/calls/", selection_api.ProgrammeCalls.as_view(), name="programme-calls"),
    path("calls/", selection_api.MyCalls.as_view(), name="calls"),
    path("calls/<int:pk>/committee/", selection_api.CommitteeView.as_view(), name="call-committee"),
    path("calls/<int:pk>/ranking/", selection_api.Ranking.as_view(), name="call-ranking"),
    path(
        "calls/<int:pk>/ranking/approve/", selection_api.RankingApprove.as_view(), name="call-ranking-approve"
    ),
    path("calls/<int:pk>/minutes.pdf", selection_api.Minutes.as_view(), name="call-minutes"),
    path(
        "applications/<int:pk>/declaration/",
        selection_api.DeclarationCreate.as_view(),
        name="application-declaration",
    ),
    path(
        "applications/<int:pk>/committee-scores/",
        selection_api.CommitteeScores.as_view(),
        name="application-committee-scores",
    ),
    path("reserve-offers/", selection_api.OfferList.as_view(), name="reserve-offers"),
    path(
        "reserve-offers/<int:pk>/decision/",
        selection_api.OfferDecision.as_view(),
        name="reserve-offer-decision",
    ),
    path("complaints/", complaints_api.ComplaintList.as_view(), name="complaints"),
    path("complaints/<int:pk>/", complaints_api.ComplaintDetail.as_view(), name="complaint"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

handler404 = "config.middleware.page_not_found"
handler500 = "config.middleware.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include((api_v1, "api"))),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("config.account_urls")),
    path("applicants/<int:pk>/export.zip", privacy_views.export_zip, name="applicant-export"),
    path("my/consent/", privacy_views.consent_renew, name="consent-renew"),
    path("", include("applicants.urls")),
    path("", include("assessments.urls")),
    path("", include("casework.urls")),
    path("", include("field.urls")),
    path("", include("grants.urls")),
    path("", include("reports.urls")),
    path("", include("selection.urls")),
    path("", include("complaints.urls")),
    path("", include("integrations.urls")),
]
