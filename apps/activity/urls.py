from django.urls import path

from apps.activity import views

app_name = "activity"

urlpatterns = [
    path("activity/", views.staff_log, name="log"),
    path("activity/export/", views.export_log, name="export"),
    path("activity/mine/", views.my_events, name="mine"),
]
