"""Live-session pages under /live/ (namespace `videoconference`)."""

from django.urls import path

from apps.videoconference import views

app_name = "videoconference"

urlpatterns = [
    path("live/", views.my_sessions, name="sessions"),
    path("live/instant/", views.start_instant, name="instant"),
    path("live/calendar/", views.calendar_settings, name="calendar"),
    path("live/calendar/<token:token>.ics", views.calendar_feed, name="feed"),
    path("live/courses/<slug:slug>/schedule/", views.schedule, name="schedule"),
    path("live/s/<token:token>/", views.room, name="room"),
    path("live/s/<token:token>/status/", views.status, name="status"),
    path("live/s/<token:token>/edit/", views.edit, name="edit"),
    path("live/s/<token:token>/start/", views.start, name="start"),
    path("live/s/<token:token>/end/", views.end, name="end"),
    path("live/s/<token:token>/cancel/", views.cancel, name="cancel"),
    path("live/s/<token:token>/attendance.csv", views.attendance_report, name="attendance"),
    path("live/s/<token:token>/session.ics", views.session_ics, name="ics"),
]
