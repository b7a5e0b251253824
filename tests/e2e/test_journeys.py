"""Browser journeys through the real ASGI app: signing in, choosing a theme, keyboard navigation."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Profile
from apps.accounts.roles import Role
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def _server_rendered_theme(html: str) -> str | None:
    """data-theme on <html> as the server sent it, before any script could change it."""
    tag = re.search(r"<html\b[^>]*>", html)
    assert tag, "no <html> tag in the response"
    theme = re.search(r'\sdata-theme="([^"]*)"', tag.group(0))
    return theme.group(1) if theme else None


def _choose_theme(page, label: str) -> None:
    """Pick a theme in the header's switcher and wait until the server has stored it."""
    with page.expect_response(
        lambda r: r.url.endswith(reverse("accounts:set_theme")) and r.request.method == "POST"
    ) as saved:
        page.locator("header").get_by_label("Theme").select_option(label=label)
    assert saved.value.status == 204, f"saving the theme answered {saved.value.status}"


def test_demo_user_signs_in_with_the_login_form_and_sees_their_name(new_context):
    make_user(role=Role.STUDENT, email="sam@example.test", display_name="Sam Student")
    page = new_context().new_page()

    page.goto(reverse("account_login"))
    form = page.locator("main form")
    form.get_by_label("Email").fill("sam@example.test")
    form.get_by_label("Password").fill(DEFAULT_PASSWORD)
    form.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(re.compile(r"/$"))
    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="Sam Student")).to_be_visible()
    expect(account_nav.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Welcome back, Sam Student.")


def test_anonymous_theme_choice_is_in_the_server_rendered_html_of_the_next_page(
    new_context, live_url
):
    context = new_context()
    page = context.new_page()
    page.goto("/")
    assert _server_rendered_theme(page.content()) is None  # system setting: no attribute

    _choose_theme(page, "Dark")

    expect(page.locator("html")).to_have_attribute("data-theme", "dark")  # applied at once
    cookies = {c["name"]: c["value"] for c in context.cookies(live_url)}
    assert cookies.get(settings.THEME_COOKIE_NAME) == "dark"
    # The next page arrives already dark: no flash of the light theme before scripts run.
    next_page = page.request.get(reverse("account_login"))
    assert _server_rendered_theme(next_page.text()) == "dark"
    page.goto(reverse("account_login"))
    expect(page.locator("header").get_by_label("Theme")).to_have_value("dark")


def test_signed_in_theme_choice_is_saved_in_the_profile_and_rendered_by_the_server(
    new_context, live_url
):
    user = make_user(role=Role.INSTRUCTOR)
    context = new_context()
    sign_in(context, user, live_url)
    page = context.new_page()
    page.goto("/")

    _choose_theme(page, "High contrast")

    expect(page.locator("html")).to_have_attribute("data-theme", "contrast")
    assert Profile.objects.get(user=user).theme == "contrast"
    assert _server_rendered_theme(page.request.get("/").text()) == "contrast"
    # Another browser without the theme cookie gets it from the profile, on the first response.
    other = new_context()
    sign_in(other, user, live_url)
    assert settings.THEME_COOKIE_NAME not in {c["name"] for c in other.cookies(live_url)}
    assert _server_rendered_theme(other.request.get("/").text()) == "contrast"


def test_first_tab_focuses_the_skip_link_and_enter_moves_focus_to_main(new_context):
    page = new_context().new_page()
    page.goto("/")

    page.keyboard.press("Tab")

    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    box = skip_link.bounding_box()
    assert box is not None, "the focused skip link is not rendered"
    assert box["y"] >= 0, "the focused skip link is off screen"

    page.keyboard.press("Enter")

    expect(page.locator("main#main")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#main$"))
