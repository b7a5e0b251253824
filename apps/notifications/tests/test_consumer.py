"""The bell's socket end to end, through `config.asgi.application` with real session cookies.

Both channel-layer configurations run these: in-memory by default, Redis with REDIS_URL set.
`notify()` runs as it does in the product: its after-commit task pushes through the layer.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.notifications import kinds, services
from apps.notifications.models import Notification
from apps.videoconference.tests.ws_helpers import Peer, cookie_for, refused, run

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/notifications/"


def bell(user: User | None) -> Peer:
    return Peer("", cookie=cookie_for(user) if user else None, path=PATH)


async def open_bell(socket: Peer) -> bool:
    """Open the socket and take the greeting: the unread count as of connecting."""
    if not await socket.open():
        return False
    greeting = await socket.receive()
    assert greeting["type"] == "unread", greeting
    return True


def notify(user: User, title: str, **fields: Any) -> Any:
    return database_sync_to_async(services.notify)(
        recipient_ids=[user.pk], kind=kinds.SESSION_SCHEDULED, title=title, **fields
    )


def test_anonymous_visitor_is_closed_with_4401() -> None:
    async def scenario() -> tuple[Any, Any]:
        socket = bell(None)
        try:
            return await refused(socket)
        finally:
            await socket.close()

    assert run(scenario) == (4401, [])


def test_a_new_notification_reaches_its_recipients_open_tab_with_the_unread_count() -> None:
    student = make_user()

    async def scenario() -> dict[str, Any]:
        socket = bell(student)
        try:
            assert await open_bell(socket)
            await notify(student, "Algebra office hours", url="/live/abc/")
            return await socket.expect("notification")
        finally:
            await socket.close()

    frame = run(scenario)

    notification = Notification.objects.get(recipient=student)
    assert frame == {
        "type": "notification",
        "id": notification.pk,
        "kind": kinds.SESSION_SCHEDULED,
        "title": "Algebra office hours",
        "url": "/live/abc/",
        "unread": 1,
    }


def test_someone_elses_notification_does_not_reach_my_tab() -> None:
    me, someone = make_user(), make_user()

    async def scenario() -> list[dict[str, Any]]:
        mine, theirs = bell(me), bell(someone)
        try:
            assert await open_bell(mine)
            assert await open_bell(theirs)
            await notify(someone, "Only for them")
            await theirs.expect("notification")  # delivered by now
            # A frame of mine after theirs proves nothing of theirs was queued before it.
            await mine.send({"type": "ping"})
            return [await mine.receive()]
        finally:
            await mine.close()
            await theirs.close()

    assert run(scenario) == [{"type": "pong"}]


def test_reading_in_another_tab_updates_the_count() -> None:
    student = make_user()
    services.notify(recipient_ids=[student.pk], kind=kinds.LESSON_PUBLISHED, title="New lesson")
    notification = Notification.objects.get(recipient=student)

    async def scenario() -> dict[str, Any]:
        socket = bell(student)
        try:
            assert await open_bell(socket)
            await database_sync_to_async(services.mark_read)(
                user=student, notification=notification
            )
            return await socket.expect("unread")
        finally:
            await socket.close()

    assert run(scenario) == {"type": "unread", "unread": 0}


def test_a_tab_that_connects_gets_the_current_unread_count_first() -> None:
    """After a reconnect the bell catches up at once instead of waiting for the next event."""
    student = make_user()
    services.notify(recipient_ids=[student.pk], kind=kinds.LESSON_PUBLISHED, title="One")
    services.notify(recipient_ids=[student.pk], kind=kinds.LESSON_PUBLISHED, title="Two")

    async def scenario() -> dict[str, Any]:
        socket = bell(student)
        try:
            assert await socket.open()
            return await socket.receive()
        finally:
            await socket.close()

    assert run(scenario) == {"type": "unread", "unread": 2}


def test_ping_is_answered_with_pong() -> None:
    student = make_user()

    async def scenario() -> dict[str, Any]:
        socket = bell(student)
        try:
            assert await open_bell(socket)
            await socket.send({"type": "ping"})
            return await socket.receive()
        finally:
            await socket.close()

    assert run(scenario) == {"type": "pong"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "unknown_type"),
        ('{"type": "subscribe", "user": 1}', "unknown_type"),
        ('["ping"]', "unknown_type"),
        ("x" * 5000, "invalid_frame"),
    ],
    ids=["not-json", "unknown-type", "not-an-object", "too-long"],
)
def test_a_bad_frame_gets_an_error_frame_and_the_connection_stays(text: str, code: str) -> None:
    student = make_user()

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        socket = bell(student)
        try:
            assert await open_bell(socket)
            await socket.send_text(text)
            error = await socket.receive()
            await socket.send({"type": "ping"})
            return error, await socket.receive()
        finally:
            await socket.close()

    error, after = run(scenario)

    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    assert after == {"type": "pong"}


def test_binary_frames_are_refused_with_an_error_frame() -> None:
    student = make_user()

    async def scenario() -> dict[str, Any]:
        socket = bell(student)
        try:
            assert await open_bell(socket)
            await socket.send_bytes(b'{"type": "ping"}')
            return await socket.receive()
        finally:
            await socket.close()

    frame = run(scenario)

    assert (frame["type"], frame["code"]) == ("error", "invalid_frame")


def test_a_flood_of_pings_is_limited_like_the_call_socket(settings) -> None:
    """Past the burst the server drops frames and says `rate_limited` once; a flood that goes
    on for another burst's worth is closed with 4429 (SIGNALING_RATE_* apply to both sockets)."""
    settings.SIGNALING_RATE_PER_SECOND = 1
    settings.SIGNALING_RATE_BURST = 5
    student = make_user()

    async def scenario() -> tuple[list[str], Any]:
        socket = bell(student)
        try:
            assert await open_bell(socket)
            for _ in range(20):
                await socket.send({"type": "ping"})
            code, seen = await socket.expect_close()
            return [frame.get("code") or frame["type"] for frame in seen], code
        finally:
            await socket.close()

    answers, code = run(scenario)
    assert answers == ["pong"] * 5 + ["rate_limited"]
    assert code == 4429
