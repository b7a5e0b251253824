from django.urls import path

from apps.activity import views

app_name = "activity"

urlpatterns = [
    path("activity/mine/", views.my_events, name="mine"),
]
