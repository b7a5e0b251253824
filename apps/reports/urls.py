"""Report pages under /reports/ (namespace `reports`)."""

from django.urls import path

from apps.reports import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_list, name="list"),
    path("reports/request/", views.request_report, name="request"),
    path("reports/<int:pk>/", views.report_detail, name="detail"),
    path("reports/<int:pk>/status/", views.report_status, name="status"),
    path("reports/<int:pk>/download/", views.download, name="download"),
]
