from django.urls import path

from apps.courses import views, views_teach

app_name = "courses"

urlpatterns = [
    path("courses/", views.catalog, name="catalog"),
    path("courses/category/<slug:slug>/", views.category, name="category"),
    path("courses/tag/<slug:slug>/", views.tag, name="tag"),
    path("courses/invitations/<token:token>/", views.invitation, name="invitation"),
    # Lesson videos and captions, checked like the lesson page; `version` changes with the file.
    path(
        "courses/media/captions/<int:track_id>/<token:version>.vtt",
        views.caption_file,
        name="caption_file",
    ),
    path(
        "courses/media/videos/<int:lesson_id>/<token:version>/",
        views.lesson_video,
        name="lesson_video",
    ),
    path("courses/<slug:slug>/", views.course_detail, name="detail"),
    path("courses/<slug:slug>/enroll/", views.enroll, name="enroll"),
    path("courses/<slug:slug>/drop/", views.drop, name="drop"),
    path("courses/<slug:slug>/lessons/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
    path(
        "courses/<slug:slug>/lessons/<slug:lesson_slug>/complete/",
        views.lesson_complete,
        name="lesson_complete",
    ),
    path("learning/", views.my_learning, name="my_learning"),
    # Instructor dashboard
    path("teach/", views_teach.dashboard, name="teach"),
    path("teach/courses/new/", views_teach.course_create, name="course_create"),
    path("teach/courses/<slug:slug>/", views_teach.course_edit, name="course_edit"),
    path("teach/courses/<slug:slug>/status/", views_teach.course_status, name="course_status"),
    path("teach/courses/<slug:slug>/lessons/new/", views_teach.lesson_create, name="lesson_create"),
    path(
        "teach/courses/<slug:slug>/lessons/<int:lesson_id>/",
        views_teach.lesson_edit,
        name="lesson_edit",
    ),
    path(
        "teach/courses/<slug:slug>/lessons/<int:lesson_id>/move/",
        views_teach.lesson_move,
        name="lesson_move",
    ),
    path(
        "teach/courses/<slug:slug>/lessons/<int:lesson_id>/delete/",
        views_teach.lesson_delete,
        name="lesson_delete",
    ),
    path(
        "teach/courses/<slug:slug>/lessons/<int:lesson_id>/captions/",
        views_teach.caption_upload,
        name="caption_upload",
    ),
    path(
        "teach/courses/<slug:slug>/lessons/<int:lesson_id>/captions/<int:track_id>/delete/",
        views_teach.caption_delete,
        name="caption_delete",
    ),
    path("teach/courses/<slug:slug>/roster/", views_teach.roster, name="roster"),
    path("teach/courses/<slug:slug>/roster.csv", views_teach.roster_csv, name="roster_csv"),
    path(
        "teach/courses/<slug:slug>/enrollments/<int:enrollment_id>/decide/",
        views_teach.enrollment_decide,
        name="enrollment_decide",
    ),
    path(
        "teach/courses/<slug:slug>/import/", views_teach.enrollment_import, name="enrollment_import"
    ),
]
