from django.urls import path

from . import views

urlpatterns = [
    path("selection/", views.call_list, name="selection-calls"),
    path("selection/calls/<int:pk>/", views.call_detail, name="selection-call"),
    path("selection/calls/<int:pk>/committee/", views.committee_save, name="selection-committee"),
    path("selection/calls/<int:pk>/approve/", views.list_approve, name="selection-approve"),
    path("selection/calls/<int:pk>/minutes.pdf", views.minutes_pdf, name="selection-minutes"),
    path("selection/applications/<int:pk>/", views.application_score, name="selection-application"),
    path("selection/applications/<int:pk>/declare/", views.application_declare, name="selection-declare"),
    path("selection/offers/<int:pk>/decide/", views.offer_decide, name="selection-offer"),
]
