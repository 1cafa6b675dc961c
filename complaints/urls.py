from django.urls import path

from . import views

urlpatterns = [
    path("complaints/new/", views.complaint_new, name="complaint-new"),
    path("complaints/follow-up/", views.follow_up, name="complaint-follow-up"),
    path("complaints/record/", views.complaint_record, name="complaint-record"),
    path("complaints/register/", views.complaint_register, name="complaint-register"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint-detail"),
    path("complaints/<int:pk>/acknowledge/", views.complaint_acknowledge, name="complaint-acknowledge"),
    path("complaints/<int:pk>/notes/", views.complaint_note, name="complaint-note"),
    path("complaints/<int:pk>/resolve/", views.complaint_resolve, name="complaint-resolve"),
    path("complaints/attachments/<int:pk>/", views.complaint_attachment, name="complaint-attachment"),
]
