"""Site URLs: each app's `urls.py` under its namespace, plus allauth and the admin."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

from apps.core import views as core_views
from apps.core.private_media import is_public_media_path

# Admin's own login form would skip the second factor: send it through allauth's sign-in instead.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "favicon.svg", permanent=True)
    ),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("accounts/", include("allauth.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.courses.urls")),
    path("", include("apps.videoconference.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.activity.urls")),
    path("", include("apps.privacy.urls")),
    path("admin/", admin.site.urls),
]


def serve_media(request: HttpRequest, path: str) -> HttpResponseBase:
    # MEDIA_ROOT is read per request, not once at import: tests give each test its own.
    if not is_public_media_path(path):  # lesson videos and captions: only the checked views
        raise Http404()
    try:
        return serve(request, path, document_root=str(settings.MEDIA_ROOT))
    except OSError:  # a name the file system refuses (too long, NUL): no such file
        raise Http404() from None


if settings.SERVE_MEDIA:
    # Single-machine mode serves uploads itself; at scale a web server or object store does.
    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", serve_media)]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
