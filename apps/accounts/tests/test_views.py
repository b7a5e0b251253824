"""Profile editing, public profiles, the theme switch and per-user preferences, through HTTP."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from apps.accounts.models import Profile, Theme, User
from apps.accounts.roles import Role
from apps.accounts.services import assign_role
from apps.accounts.tests import images
from apps.accounts.tests.factories import give_totp, make_user

pytestmark = pytest.mark.django_db


def _profile_url() -> str:
    return reverse("accounts:profile_edit")


def _public_url(user_id: int) -> str:
    return reverse("accounts:public_profile", args=[user_id])


def _form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": "Grace Hopper",
        "bio": "I teach compilers.",
        "time_zone": "Europe/Berlin",
        "language": "de",
        "theme": Theme.DARK,
    }
    data.update(overrides)
    return data


def _html_tag(page: str) -> str:
    """The opening <html ...> tag, where language and forced theme are rendered."""
    match = re.search(r"<html[^>]*>", page)
    assert match is not None, page[:500]
    return match.group(0)


def _media_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def user() -> User:
    return make_user(display_name="Ada Lovelace", email="ada@example.test")


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _upload_avatar(client: Client, content: bytes, name: str = "me.png") -> None:
    response = client.post(_profile_url(), _form_data(avatar=images.upload(name, content)))
    assert response.status_code == 302, response.content.decode()[:2000]


# --- Profile edit: access, form, saving ---------------------------------------------------------


def test_profile_edit_sends_visitors_to_sign_in_and_back(client):
    response = client.get(_profile_url())

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={_profile_url()}"


def test_profile_edit_shows_the_form_with_current_values(signed_in, user):
    Profile.objects.filter(user=user).update(bio="Counting engines.")

    response = signed_in.get(_profile_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Ada Lovelace"' in html
    assert "Counting engines." in html
    for name in ("display_name", "bio", "avatar", "time_zone", "language", "theme"):
        assert f'name="{name}"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "remove_avatar" not in html  # nothing to remove yet


def test_saving_the_profile_updates_name_bio_and_preferences(signed_in, user):
    response = signed_in.post(_profile_url(), _form_data(display_name="  Grace Hopper  "))

    assert response.status_code == 302
    assert response["Location"] == _profile_url()
    user.refresh_from_db()
    assert user.display_name == "Grace Hopper"
    profile = user.profile
    assert (profile.bio, profile.time_zone, profile.language, profile.theme) == (
        "I teach compilers.",
        "Europe/Berlin",
        "de",
        Theme.DARK,
    )
    page = signed_in.get(response["Location"])
    assert "Your profile has been saved." in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "   "),
        ("display_name", "x" * 81),
        ("bio", "x" * 2001),
        ("time_zone", "Mars/Olympus_Mons"),
        ("language", "xx"),
        ("theme", "neon"),
    ],
)
def test_invalid_profile_values_are_refused_and_nothing_changes(signed_in, user, field, value):
    response = signed_in.post(_profile_url(), _form_data(**{field: value}))

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'id="id_{field}_errors"' in html
    user.refresh_from_db()
    assert user.display_name == "Ada Lovelace"
    assert user.profile.time_zone == "UTC"
    assert user.profile.theme == Theme.SYSTEM


def test_posting_an_empty_profile_form_shows_errors_instead_of_ignoring_it(signed_in, user):
    response = signed_in.post(_profile_url(), {})

    assert response.status_code == 400
    assert 'id="id_display_name_errors"' in response.content.decode()


# --- Avatars ------------------------------------------------------------------------------------


def test_png_avatar_is_stored_as_a_square_webp_under_a_server_chosen_name(signed_in, user):
    _upload_avatar(signed_in, images.png_bytes((500, 300)), name="holiday-photo.png")

    profile = Profile.objects.get(user=user)
    assert re.fullmatch(r"avatars/avatar-[0-9a-f]{32}\.webp", profile.avatar.name)
    [stored] = _media_files()
    assert "holiday" not in stored.name
    with Image.open(stored) as image:
        assert image.format == "WEBP"
        assert image.size == (django_settings.AVATAR_SIZE_PX, django_settings.AVATAR_SIZE_PX)
    page = signed_in.get(_public_url(user.pk)).content.decode()
    assert f'src="{profile.avatar.url}"' in page


def test_jpeg_avatar_loses_its_exif_camera_and_location_data(signed_in, user):
    original = images.jpeg_bytes(with_exif=True)
    assert images.CAMERA_MAKE.encode() in original

    _upload_avatar(signed_in, original, name="IMG_0001.jpg")

    [stored] = _media_files()
    content = stored.read_bytes()
    assert images.CAMERA_MAKE.encode() not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "WEBP"
        assert image.size == (256, 256)
        assert dict(image.getexif()) == {}
    assert Profile.objects.get(user=user).avatar.name == f"avatars/{stored.name}"


@pytest.mark.parametrize(
    ("name", "make_content", "error_text"),
    [
        ("notes.png", lambda: images.TEXT, "valid image"),
        ("logo.svg", lambda: images.SVG, "valid image"),
        ("invoice.png", lambda: images.PDF, "valid image"),
        (
            "huge.png",
            lambda: images.noisy_png_bytes(django_settings.AVATAR_MAX_UPLOAD_BYTES + 1),
            "too large",
        ),
        ("bomb.png", lambda: images.huge_dimension_png_bytes(7000, 7000), "megapixels"),
    ],
    ids=["text-renamed-png", "svg", "pdf", "over-size-limit", "huge-dimensions"],
)
def test_bad_avatar_upload_is_refused_with_a_clear_error_and_nothing_is_stored(
    signed_in, user, name, make_content, error_text
):
    response = signed_in.post(
        _profile_url(),
        _form_data(display_name="Someone Else", avatar=images.upload(name, make_content())),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    errors = re.search(r'<ul class="errorlist" id="id_avatar_errors">(.*?)</ul>', html, re.S)
    assert errors is not None
    assert error_text in errors.group(1)
    assert 'aria-invalid="true"' in html
    assert _media_files() == []
    user.refresh_from_db()
    assert user.display_name == "Ada Lovelace"
    profile = user.profile
    assert not profile.avatar
    assert (profile.bio, profile.time_zone, profile.theme) == ("", "UTC", Theme.SYSTEM)
    # The page header still shows the stored name, not the refused one.
    assert "Someone Else" not in html.split("<main", 1)[0]


def test_bad_upload_keeps_the_existing_avatar(signed_in, user):
    _upload_avatar(signed_in, images.png_bytes())
    before = Profile.objects.get(user=user).avatar.name

    response = signed_in.post(_profile_url(), _form_data(avatar=images.upload("x.png", images.SVG)))

    assert response.status_code == 400
    assert Profile.objects.get(user=user).avatar.name == before
    assert [p.name for p in _media_files()] == [Path(before).name]


def test_replacing_the_avatar_deletes_the_old_file_once_saved(
    signed_in, user, django_capture_on_commit_callbacks
):
    _upload_avatar(signed_in, images.png_bytes(color="red"))
    [old_file] = _media_files()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _upload_avatar(signed_in, images.jpeg_bytes(), name="new.jpg")
    assert old_file.exists()  # nothing is deleted before the transaction commits
    for callback in callbacks:
        callback()

    new_name = Profile.objects.get(user=user).avatar.name
    assert new_name != f"avatars/{old_file.name}"
    assert [p.name for p in _media_files()] == [Path(new_name).name]


def test_removing_the_avatar_clears_it_and_deletes_the_file(
    signed_in, user, django_capture_on_commit_callbacks
):
    _upload_avatar(signed_in, images.png_bytes())
    assert 'name="remove_avatar"' in signed_in.get(_profile_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(_profile_url(), _form_data(remove_avatar="on"))

    assert response.status_code == 302
    assert not Profile.objects.get(user=user).avatar
    assert _media_files() == []
    page = signed_in.get(_public_url(user.pk)).content.decode()
    assert "avatar-initial" in page


def test_saving_without_a_new_upload_keeps_the_avatar(
    signed_in, user, django_capture_on_commit_callbacks
):
    _upload_avatar(signed_in, images.png_bytes())
    before = Profile.objects.get(user=user).avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(_profile_url(), _form_data(bio="Changed only the bio."))

    assert response.status_code == 302
    assert Profile.objects.get(user=user).avatar.name == before
    assert len(_media_files()) == 1


# --- Public profile -----------------------------------------------------------------------------


def test_public_profile_is_visible_to_visitors(client, user):
    Profile.objects.filter(user=user).update(bio="Poet of numbers.")

    response = client.get(_public_url(user.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="profile-name">Ada Lovelace</h1>' in html
    assert "Poet of numbers." in html
    assert "Edit your profile" not in html
    assert "ada@example.test" not in html  # the email address stays private


def test_own_public_profile_offers_an_edit_link(signed_in, user):
    html = signed_in.get(_public_url(user.pk)).content.decode()

    assert f'href="{_profile_url()}"' in html
    assert "Edit your profile" in html


def test_deactivated_users_profile_is_not_found_for_visitors_and_members(client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    member = make_user()

    assert client.get(_public_url(user.pk)).status_code == 404
    client.force_login(member)
    response = client.get(_public_url(user.pk))
    assert response.status_code == 404
    assert "Ada Lovelace" not in response.content.decode()


def test_staff_can_still_see_a_deactivated_users_profile(client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    client.force_login(make_user(role=Role.STAFF))

    response = client.get(_public_url(user.pk))

    assert response.status_code == 200
    assert "Ada Lovelace" in response.content.decode()


@pytest.mark.parametrize("user_id", [999_999, 2**63, 10**30])
def test_unknown_profile_id_is_a_friendly_404(client, user_id):
    response = client.get(f"/people/{user_id}/")

    assert response.status_code == 404
    assert "We could not find that" in response.content.decode()


def test_public_profile_does_not_accept_posts(client, user):
    assert client.post(_public_url(user.pk)).status_code == 405


# --- Theme switch -------------------------------------------------------------------------------


def _theme_url() -> str:
    return reverse("accounts:set_theme")


def test_visitor_theme_choice_is_remembered_in_a_cookie_and_rendered_server_side(client, user):
    response = client.post(_theme_url(), {"theme": "dark", "next": _public_url(user.pk)})

    assert response.status_code == 302
    assert response["Location"] == _public_url(user.pk)
    cookie = response.cookies[django_settings.THEME_COOKIE_NAME]
    assert cookie.value == "dark"
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] >= 60 * 60 * 24 * 30
    page = client.get(_public_url(user.pk)).content.decode()
    assert 'data-theme="dark"' in _html_tag(page)
    assert '<option value="dark" selected>' in page


def test_system_theme_renders_no_forced_theme(client):
    client.post(_theme_url(), {"theme": "system"})

    page = client.get("/").content.decode()
    assert "data-theme" not in _html_tag(page)


def test_signed_in_theme_choice_is_saved_to_the_profile_and_follows_to_other_devices(
    signed_in, user
):
    response = signed_in.post(_theme_url(), {"theme": "contrast", "next": "/"})

    assert response.status_code == 302
    assert Profile.objects.get(user=user).theme == Theme.HIGH_CONTRAST
    other_device = Client()
    other_device.force_login(user)
    assert 'data-theme="contrast"' in _html_tag(other_device.get("/").content.decode())


def test_cookie_with_an_unknown_theme_is_ignored(client):
    client.cookies[django_settings.THEME_COOKIE_NAME] = '"><script>alert(1)</script>'

    page = client.get("/").content.decode()

    assert "<script>alert(1)" not in page
    assert "data-theme" not in _html_tag(page)


def test_invalid_theme_is_refused_with_an_error_page(signed_in, user):
    response = signed_in.post(_theme_url(), {"theme": "neon", "next": "/"})

    assert response.status_code == 400
    assert "Choose one of the offered themes." in response.content.decode()
    assert django_settings.THEME_COOKIE_NAME not in response.cookies
    assert Profile.objects.get(user=user).theme == Theme.SYSTEM


def test_invalid_theme_gets_a_json_error_for_scripts(client):
    response = client.post(_theme_url(), {"theme": "neon"}, headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_script_theme_switch_gets_no_content_and_the_cookie(client):
    response = client.post(_theme_url(), {"theme": "light"}, headers={"Accept": "application/json"})

    assert response.status_code == 204
    assert response.cookies[django_settings.THEME_COOKIE_NAME].value == "light"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "http://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_theme_switch_never_redirects_off_site(client, target):
    response = client.post(_theme_url(), {"theme": "dark", "next": target})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_theme_switch_without_next_returns_to_the_referring_page(client, user):
    referer = f"http://testserver{_public_url(user.pk)}"

    response = client.post(_theme_url(), {"theme": "dark"}, headers={"Referer": referer})

    assert response["Location"] == referer


def test_theme_switch_ignores_an_off_site_referer(client):
    response = client.post(
        _theme_url(), {"theme": "dark"}, headers={"Referer": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_theme_switch_requires_a_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    refused = browser.post(_theme_url(), {"theme": "dark", "next": "/"})

    assert refused.status_code == 403
    assert "Your form expired or came from another site" in refused.content.decode()
    assert Profile.objects.get(user=user).theme == Theme.SYSTEM
    assert django_settings.THEME_COOKIE_NAME not in refused.cookies

    page = browser.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    accepted = browser.post(
        _theme_url(), {"theme": "dark", "next": "/", "csrfmiddlewaretoken": token.group(1)}
    )
    assert accepted.status_code == 302
    assert Profile.objects.get(user=user).theme == Theme.DARK


def test_theme_switch_only_accepts_posts(client):
    assert client.get(_theme_url()).status_code == 405


# --- Preferences applied to every page ----------------------------------------------------------


def test_signed_in_users_language_and_time_zone_are_applied(signed_in, user):
    Profile.objects.filter(user=user).update(language="de", time_zone="Asia/Tokyo")

    response = signed_in.get("/")

    html = response.content.decode()
    assert ' lang="de"' in _html_tag(html)
    assert response["Content-Language"] == "de"
    assert response.context["TIME_ZONE"] == "Asia/Tokyo"


def test_profile_language_wins_over_the_browsers(signed_in, user):
    Profile.objects.filter(user=user).update(language="fr")

    response = signed_in.get("/", headers={"Accept-Language": "es"})

    assert ' lang="fr"' in _html_tag(response.content.decode())


def test_visitors_get_the_browser_language_and_the_site_time_zone(client):
    response = client.get("/", headers={"Accept-Language": "es"})

    assert ' lang="es"' in _html_tag(response.content.decode())
    assert response.context["TIME_ZONE"] == django_settings.TIME_ZONE


def test_one_users_time_zone_does_not_leak_into_the_next_request(signed_in, user, client):
    Profile.objects.filter(user=user).update(time_zone="Asia/Tokyo")
    signed_in.get("/")

    visitor = Client()
    assert visitor.get("/").context["TIME_ZONE"] == django_settings.TIME_ZONE


# --- Query counts -------------------------------------------------------------------------------


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _enrich(user: User) -> None:
    """Give a user everything that could add queries: an avatar, a bio, every role (and the
    second factor those roles require)."""
    for role in Role:
        assign_role(user=user, role=role)
    give_totp(user)
    Profile.objects.filter(user=user).update(bio="Lots to say.\n" * 20, avatar="avatars/x.webp")


def test_profile_edit_page_costs_a_fixed_number_of_queries(django_assert_num_queries):
    plain, rich = make_user(), make_user()
    _enrich(rich)
    counts = []
    for user in (plain, rich):
        client = Client()
        client.force_login(user)
        client.get(_profile_url())  # warm the session cache
        counts.append(_count_queries(client, _profile_url()))

    assert counts[0] == counts[1]
    client = Client()
    client.force_login(plain)
    client.get(_profile_url())
    # user (auth), preferences (middleware), the profile being edited, roles (header nav)
    with django_assert_num_queries(4):
        client.get(_profile_url())


def test_public_profile_page_costs_a_fixed_number_of_queries(django_assert_num_queries):
    plain, rich = make_user(), make_user()
    _enrich(rich)

    visitor = Client()
    assert _count_queries(visitor, _public_url(plain.pk)) == _count_queries(
        visitor, _public_url(rich.pk)
    )
    # owner joined with their profile, the courses they teach
    with django_assert_num_queries(2):
        visitor.get(_public_url(rich.pk))

    staff = Client()
    staff.force_login(make_user(role=Role.STAFF))
    staff.get("/")
    assert _count_queries(staff, _public_url(plain.pk)) == _count_queries(
        staff, _public_url(rich.pk)
    )
