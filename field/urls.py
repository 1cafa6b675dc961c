from django.urls import path

from . import views

urlpatterns = [
    path("field/", views.home, name="field-home"),
    path("field/visit/", views.visit, name="field-visit"),
    path("field/attendance/", views.attendance, name="field-attendance"),
    path("field/register/", views.register, name="field-register"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="web-manifest"),
]
