from django.urls import path

from . import views

urlpatterns = [
    path("intake/", views.submission_list, name="intake-submission-list"),
    path("intake/<int:pk>/", views.submission_detail, name="intake-submission-detail"),
    path("intake/<int:pk>/reapply/", views.submission_reapply, name="intake-submission-reapply-page"),
    path("intake/<int:pk>/dismiss/", views.submission_dismiss, name="intake-submission-dismiss-page"),
]
