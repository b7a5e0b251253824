from django.urls import path

from apps.privacy import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.home, name="home"),
    path("privacy/export/", views.export, name="export"),
    path("privacy/erasure/", views.erasure_request, name="erasure_request"),
    path("privacy/erasure/cancel/", views.erasure_cancel, name="erasure_cancel"),
    path("privacy/consent/", views.consent, name="consent"),
    path("privacy/consent/purpose/", views.purpose, name="purpose"),
    path("privacy/terms/", views.terms, name="terms"),
    path("privacy/notice/", views.notice, name="notice"),
    path("privacy/processing/", views.processing, name="processing"),
]
