"""The notification pages as people use them: the bell, the list, reading, settings, unsubscribe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.notifications import kinds, selectors, services
from apps.notifications.models import DeliverySettings, Notification, Preference
from apps.notifications.tokens import make_unsubscribe_token
from apps.notifications.views import PAGE_SIZE

pytestmark = pytest.mark.django_db


def notify(user: User, title: str = "Session scheduled", **fields: Any) -> Notification:
    fields.setdefault("kind", kinds.SESSION_SCHEDULED)
    (created,) = services.notify(recipient_ids=[user.pk], title=title, **fields)
    return created


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str, **extra: Any) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def bell_label(html: str) -> str:
    found = re.search(r'id="notifications-bell"[^>]*aria-label="([^"]*)"', html, re.S)
    assert found, "no bell on the page"
    return found.group(1)


LIST = reverse("notifications:list")
PREFERENCES = reverse("notifications:preferences")


# --- Signed out -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "list", []),
        ("get", "preferences", []),
        ("post", "preferences", []),
        ("post", "mark_all_read", []),
        ("post", "open", [1]),
        ("post", "mark_read", [1]),
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(method: str, name: str, args: list[int]) -> None:
    url = reverse(f"notifications:{name}", args=args)

    response = getattr(Client(), method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_signed_out_pages_show_no_bell() -> None:
    assert 'id="notifications-bell"' not in page(Client(), "/")


# --- The bell ---------------------------------------------------------------------------------
def test_the_bell_shows_the_unread_count_in_its_text_and_accessible_name() -> None:
    student = make_user()
    notify(student, "One", dedupe_key="1")
    notify(student, "Two", dedupe_key="2")

    html = page(signed_in(student), "/")

    assert bell_label(html) == "Notifications, 2 unread"
    assert re.search(r"data-unread-badge>2</span>", html)
    assert 'data-notifications-socket="/ws/notifications/"' in html
    assert 'id="notifications-live"' in html  # the polite region site.js announces in


def test_the_bell_counts_only_notifications_shown_in_the_app() -> None:
    student = make_user()
    services.set_preferences(user=student, choices={kinds.LESSON_PUBLISHED: (False, True)})
    notify(student, "Shown")
    notify(student, "Email only", kind=kinds.LESSON_PUBLISHED)

    html = page(signed_in(student), LIST)

    assert bell_label(html) == "Notifications, 1 unread"
    assert "Shown" in html
    assert "Email only" not in html


def test_the_bell_costs_one_query_when_its_count_is_not_cached_and_none_when_it_is(
    django_assert_num_queries,
) -> None:
    student = make_user()
    notify(student)
    client = signed_in(student)
    profile = reverse("accounts:profile_edit")
    page(client, profile)  # the session and the count are cached now

    with django_assert_num_queries(4):  # user, preferences, profile, roles: no bell query
        page(client, profile)
    selectors.forget_unread_counts([student.pk])
    with django_assert_num_queries(5):
        assert bell_label(page(client, profile)) == "Notifications, 1 unread"


def test_a_response_without_the_header_does_not_read_the_count(
    django_assert_num_queries, rf
) -> None:
    from apps.notifications.context_processors import bell

    request = rf.get("/")
    request.user = make_user()

    with django_assert_num_queries(0):
        context = bell(request)
    with django_assert_num_queries(1):
        assert context["bell"].unread == 0
        assert context["bell"].unread == 0


# --- The list ---------------------------------------------------------------------------------
def test_the_list_shows_newest_first_with_unread_ones_marked_in_words() -> None:
    student = make_user()
    older = notify(student, "Older news", dedupe_key="a")
    notify(student, "Newer news", dedupe_key="b")
    services.mark_read(user=student, notification=older)

    html = page(signed_in(student), LIST)

    assert html.index("Newer news") < html.index("Older news")
    newer_item = html[html.index("Newer news") - 2000 : html.index("Older news")]
    assert ">Unread</span>" in newer_item
    older_item = html[html.index("Older news") :]
    assert ">Unread</span>" not in older_item.split("</li>")[0]
    assert "You have 1 unread notification." in html
    assert "Mark all as read" in html


def test_each_item_opens_through_a_post_that_marks_it_read() -> None:
    student = make_user()
    notification = notify(student, "Office hours", url="/live/abc/")

    html = page(signed_in(student), LIST)

    assert f'action="{reverse("notifications:open", args=[notification.pk])}"' in html


def test_an_empty_list_says_so_and_offers_no_mark_all_button() -> None:
    html = page(signed_in(make_user()), LIST)

    assert "You have no notifications yet." in html
    assert "Mark all as read" not in html
    assert f'href="{PREFERENCES}"' in html


def test_the_list_is_paginated() -> None:
    student = make_user()
    for i in range(PAGE_SIZE + 3):
        notify(student, f"Item {i:02d}", dedupe_key=str(i))
    client = signed_in(student)

    first, second = page(client, LIST), page(client, LIST + "?page=2")

    assert f"Item {PAGE_SIZE + 2:02d}" in first
    assert "Item 00" not in first
    assert "Item 00" in second
    assert "Page 2 of 2" in second


# --- Opening and reading ----------------------------------------------------------------------
def test_opening_marks_read_and_goes_where_the_notification_points() -> None:
    student = make_user()
    notification = notify(student, url="/live/abc/")
    client = signed_in(student)

    response = client.post(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == "/live/abc/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert bell_label(page(client, "/")) == "Notifications, 0 unread"


@pytest.mark.parametrize(
    "url", ["https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)", ""]
)
def test_opening_never_leaves_the_site(url: str) -> None:
    student = make_user()
    notification = notify(student, url=url)

    response = signed_in(student).post(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == LIST


@pytest.mark.parametrize("name", ["open", "mark_read"])
def test_someone_elses_notification_is_not_found_and_stays_unread(name: str) -> None:
    owner, other = make_user(), make_user()
    notification = notify(owner)

    response = signed_in(other).post(reverse(f"notifications:{name}", args=[notification.pk]))

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize("name", ["open", "mark_read"])
def test_opening_with_get_is_not_allowed(name: str) -> None:
    student = make_user()
    notification = notify(student)

    response = signed_in(student).get(reverse(f"notifications:{name}", args=[notification.pk]))

    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_without_htmx_returns_to_the_list_with_a_message() -> None:
    student = make_user()
    notification = notify(student, "Report ready", kind=kinds.REPORT_READY)
    client = signed_in(student)

    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == LIST
    html = page(client, LIST)
    assert "Marked as read: Report ready" in html
    assert bell_label(html) == "Notifications, 0 unread"


def test_mark_read_with_htmx_returns_the_item_and_updates_the_bell_out_of_band() -> None:
    student = make_user()
    read_me = notify(student, "Read me", dedupe_key="1")
    notify(student, "Still unread", dedupe_key="2")

    response = signed_in(student).post(
        reverse("notifications:mark_read", args=[read_me.pk]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="notification-{read_me.pk}"')
    assert "Mark as read" not in html
    assert ">Unread</span>" not in html
    assert bell_label(html) == "Notifications, 1 unread"
    assert 'hx-swap-oob="true"' in html
    assert "Marked as read: Read me" in html
    assert "You have 1 unread notification." in html


def test_mark_all_read_empties_the_count() -> None:
    student = make_user()
    for i in range(3):
        notify(student, dedupe_key=str(i))
    other = make_user()
    notify(other)
    client = signed_in(student)

    response = client.post(reverse("notifications:mark_all_read"), follow=True)

    html = response.content.decode()
    assert "All notifications are marked as read." in html
    assert bell_label(html) == "Notifications, 0 unread"
    assert ">Unread</span>" not in html
    assert selectors.unread_count(other.pk) == 1


# --- Settings ---------------------------------------------------------------------------------
def _checked(html: str, field: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', html)
    assert tag, f"no input {field}"
    return "checked" in tag.group(0)


def test_settings_list_every_kind_with_two_labelled_checkboxes() -> None:
    html = page(signed_in(make_user()), PREFERENCES)

    for key, kind in kinds.KINDS.items():
        assert f'<th scope="row">{kind.label}</th>' in html
        for channel in ("in_app", "email"):
            field_id = f"id_{key}__{channel}"
            assert f'<label for="{field_id}">' in html
            assert _checked(html, f"{key}__{channel}")  # the defaults: everything on
    assert 'value="immediate"' in html
    assert 'value="daily"' in html


def test_settings_round_trip() -> None:
    student = make_user()
    client = signed_in(student)
    data = {f"{key}__in_app": "on" for key in kinds.KINDS}
    data[f"{kinds.SESSION_REMINDER}__email"] = "on"
    data["email_frequency"] = DeliverySettings.Frequency.DAILY

    response = client.post(PREFERENCES, data, follow=True)

    html = response.content.decode()
    assert "Your notification settings are saved." in html
    assert _checked(html, f"{kinds.SESSION_REMINDER}__email")
    assert not _checked(html, f"{kinds.LESSON_PUBLISHED}__email")
    assert _checked(html, f"{kinds.LESSON_PUBLISHED}__in_app")
    assert re.search(r'<input[^>]*value="daily"[^>]*checked', html)
    assert selectors.preferences_of(student.pk)[kinds.LESSON_PUBLISHED] == selectors.Choice(
        in_app=True, email=False
    )
    assert selectors.email_frequency_of(student.pk) == DeliverySettings.Frequency.DAILY


def test_settings_with_an_unknown_frequency_show_the_error_and_save_nothing() -> None:
    student = make_user()

    response = signed_in(student).post(PREFERENCES, {"email_frequency": "hourly"})

    assert response.status_code == 400
    assert "data-error-summary" in response.content.decode()
    assert not Preference.objects.filter(user=student).exists()


def test_the_profile_page_links_to_notification_settings() -> None:
    html = page(signed_in(make_user()), reverse("accounts:profile_edit"))

    assert f'href="{PREFERENCES}"' in html


# --- Unsubscribe ------------------------------------------------------------------------------
def _unsubscribe_url(user: User, kind: str = kinds.LESSON_PUBLISHED) -> str:
    return reverse(
        "notifications:unsubscribe", args=[make_unsubscribe_token(user_id=user.pk, kind=kind)]
    )


def test_opening_the_unsubscribe_link_only_asks_to_confirm() -> None:
    student = make_user()
    url = _unsubscribe_url(student)

    html = page(Client(), url)

    assert "Stop these emails?" in html
    assert str(kinds.get_kind(kinds.LESSON_PUBLISHED).label) in html
    assert f'<form method="post" action="{url}">' in html
    assert selectors.preferences_of(student.pk)[kinds.LESSON_PUBLISHED].email is True
    assert not Preference.objects.filter(user=student).exists()


def test_one_click_unsubscribe_from_a_mail_client_turns_off_that_kind_only() -> None:
    student = make_user()
    waiting = notify(student, "Waiting email", kind=kinds.LESSON_PUBLISHED)
    mail_client = Client(enforce_csrf_checks=True)  # no session, no CSRF token

    response = mail_client.post(
        _unsubscribe_url(student),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    html = response.content.decode()
    label = kinds.get_kind(kinds.LESSON_PUBLISHED).label
    assert f"You will no longer get emails about “{label}”." in html
    assert f'href="{PREFERENCES}"' in html
    choices = selectors.preferences_of(student.pk)
    assert choices[kinds.LESSON_PUBLISHED] == selectors.Choice(in_app=True, email=False)
    assert all(c.email for key, c in choices.items() if key != kinds.LESSON_PUBLISHED)
    waiting.refresh_from_db()
    assert waiting.email_status == Notification.EmailStatus.NONE


def test_the_confirmation_pages_button_unsubscribes_without_a_session() -> None:
    student = make_user()
    browser = Client(enforce_csrf_checks=True)
    url = _unsubscribe_url(student, kinds.REPORT_READY)
    page(browser, url)

    response = browser.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert selectors.preferences_of(student.pk)[kinds.REPORT_READY].email is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_link_is_refused_with_a_clear_page(method: str) -> None:
    student = make_user()
    token = make_unsubscribe_token(user_id=student.pk, kind=kinds.LESSON_PUBLISHED)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")

    response = getattr(Client(), method)(reverse("notifications:unsubscribe", args=[tampered]))

    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in response.content.decode()
    assert selectors.preferences_of(student.pk)[kinds.LESSON_PUBLISHED].email is True


def test_a_tampered_unsubscribe_link_answers_programs_with_a_stable_code() -> None:
    response = Client().post(
        reverse("notifications:unsubscribe", args=["not-a-token"]),
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_unsubscribe_link"
