from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile_edit, name="profile_edit"),
    path("people/<int:user_id>/", views.public_profile, name="public_profile"),
    path("theme/", views.set_theme, name="set_theme"),
    path("account/security/", views.security, name="security"),
]
