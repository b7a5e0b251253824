from django.urls import path

from apps.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read-all/", views.mark_all_read, name="mark_all_read"),
    path("notifications/<int:pk>/open/", views.open_notification, name="open"),
    path("notifications/<int:pk>/read/", views.mark_read, name="mark_read"),
    path("notifications/settings/", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<signed:token>/", views.unsubscribe, name="unsubscribe"),
]
