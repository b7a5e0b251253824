"""The bell in a real browser: a notification arrives without a reload, is announced politely,
and reading it through the list clears it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.tests.factories import make_user
from apps.notifications import kinds, services
from apps.notifications.models import Notification
from tests.e2e.conftest import LiveServer, in_the_server, poll, sign_in

pytestmark = pytest.mark.browser


def notify_in_the_server(server: LiveServer, **kwargs: Any) -> list[Notification]:
    return in_the_server(server, services.notify, **kwargs)


@pytest.fixture
def notify(_live_server: LiveServer) -> Callable[..., list[Notification]]:
    return partial(notify_in_the_server, _live_server)


def _console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_new_notification_updates_the_bell_without_reload_and_is_read_by_opening_it(
    new_context, live_url, notify
):
    student = make_user(display_name="Sam Student")
    context = new_context()
    sign_in(context, student, live_url)
    page = context.new_page()
    errors = _console_errors(page)
    page.goto("/")

    account = page.get_by_role("navigation", name="Account")
    bell = account.get_by_role("link", name="Notifications, 0 unread")
    expect(bell).to_be_visible()
    expect(bell.locator("[data-unread-badge]")).to_have_text("0")
    expect(bell).to_have_attribute("data-socket-state", "open")  # listening before we notify

    target = reverse("courses:my_learning")
    notify(
        recipient_ids=[student.pk],
        kind=kinds.SESSION_SCHEDULED,
        title="Algebra office hours on Friday",
        url=target,
    )

    bell = account.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    expect(bell.locator("[data-unread-badge]")).to_have_text("1")
    live_region = page.locator("#notifications-live")
    expect(live_region).to_have_attribute("aria-live", "polite")
    expect(live_region).to_have_text("New notification: Algebra office hours on Friday")
    assert page.url.rstrip("/") == live_url.rstrip("/"), "the page reloaded"

    bell.click()
    expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    item = page.locator(".notification-item", has_text="Algebra office hours on Friday")
    expect(item).to_contain_text("Unread")
    item.get_by_role("button", name="Algebra office hours on Friday", exact=True).click()

    expect(page).to_have_url(live_url + target)
    expect(account.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
    poll(
        lambda: Notification.objects.filter(recipient=student, read_at__isnull=False).exists(),
        message="opening the notification did not mark it read",
    )
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_mark_as_read_in_the_list_updates_the_item_and_the_bell_in_place(
    new_context, live_url, notify
):
    student = make_user()
    for title in ("First news", "Second news"):
        notify(recipient_ids=[student.pk], kind=kinds.LESSON_PUBLISHED, title=title)
    context = new_context()
    sign_in(context, student, live_url)
    page = context.new_page()
    errors = _console_errors(page)
    page.goto(reverse("notifications:list"))
    expect(page.locator("#notifications-bell")).to_have_attribute("data-socket-state", "open")

    button = page.get_by_role("button", name="Mark as read (First news)")
    button.focus()
    page.keyboard.press("Enter")

    item = page.locator(".notification-item", has_text="First news")
    expect(item).not_to_contain_text("Unread")
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    expect(page.locator("#notifications-live")).to_have_text("Marked as read: First news")
    # Keyboard focus stays on the item (its title), not lost to the top of the page.
    expect(item.get_by_role("button", name="First news", exact=True)).to_be_focused()
    expect(page.locator("#notifications-status")).to_have_text("You have 1 unread notification.")
    assert not errors, "console errors:\n" + "\n".join(errors)
