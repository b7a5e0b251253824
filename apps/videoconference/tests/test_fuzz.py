"""Fuzz: 10,000 hostile frames from one peer leave the server and the other peer unharmed.

Hypothesis generates the frames (random JSON, mutated valid frames, wrong types, huge strings,
JSON escapes of lone surrogates, random bytes); a participant sends them while a host is
connected. No frame may raise inside the server (nothing logged at ERROR), the fuzzing socket
must stay usable, and the host must still receive a chat sent afterwards.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference.tests.factories import live_session
from apps.videoconference.tests.ws_helpers import Peer, cookie_for, run

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES_PER_EXAMPLE = 100
EXAMPLES = 100  # 100 x 100 = 10,000 frames
TARGET = "<target>"  # replaced by the host's peer id when sent
SERVER_TYPES = {
    "welcome",
    "peer-joined",
    "peer-left",
    "offer",
    "answer",
    "ice",
    "chat",
    "peer-state",
    "caption",
    "error",
    "ping",
    "lobby-waiting",
    "lobby-left",
}
CLIENT_TYPES = [
    "offer",
    "answer",
    "ice",
    "chat",
    "state",
    "caption",
    "mute",
    "remove",
    "admit",
    "deny",
    "end",
    "pong",
]
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
VALID: list[dict[str, Any]] = [
    {"type": "offer", "to": TARGET, "sdp": {"type": "offer", "sdp": SDP}},
    {"type": "answer", "to": TARGET, "sdp": {"type": "answer", "sdp": SDP}},
    {"type": "offer", "to": TARGET, "sdp": {"type": "rollback", "sdp": ""}},
    {
        "type": "ice",
        "to": TARGET,
        "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 5 typ host", "sdpMid": "0"},
    },
    {"type": "ice", "to": TARGET, "candidate": None},
    {"type": "ice", "to": "nobody-by-this-id", "candidate": None},
    {"type": "chat", "text": "hello"},
    {"type": "state", "audio": False, "video": True, "screen": False, "hand": True},
    {"type": "caption", "text": "words", "final": True},
    {"type": "mute", "peer_id": TARGET},
    {"type": "remove", "peer_id": TARGET},
    {"type": "admit", "peer_id": TARGET},
    {"type": "deny", "peer_id": TARGET},
    {"type": "end"},
    {"type": "pong"},
]

weird_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "So"]), max_size=8),
    st.sampled_from(["", " ", TARGET, "\x00", "null", "0", "-1", "🙂" * 3]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | weird_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["type", "to", "sdp", "text", "candidate", "peer_id", "final", "audio"])
            | weird_text,
            children,
            max_size=4,
        )
    ),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    frame = json.loads(json.dumps(draw(st.sampled_from(VALID))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(st.sampled_from(["drop", "replace", "add", "retype", "nest"]))
        keys = [k for k in frame if k != "type"] or ["type"]
        key = draw(st.sampled_from(keys))
        if action == "drop":
            frame.pop(key, None)
        elif action == "replace":
            frame[key] = draw(json_values)
        elif action == "add":
            frame[draw(weird_text)] = draw(json_values)
        elif action == "retype":
            frame["type"] = draw(st.sampled_from(CLIENT_TYPES) | weird_text | json_values)
        elif isinstance(frame.get(key), dict):
            inner = frame[key]
            inner[draw(st.sampled_from([*inner, "type", "sdp", "candidate", "sdpMLineIndex"]))] = (
                draw(json_values)
            )
    return frame


@st.composite
def huge(draw: st.DrawFn) -> str:
    size = draw(st.sampled_from([2000, 2001, 60_000, 60_001, 65_400, 65_600, 200_000]))
    field = draw(st.sampled_from(["text", "sdp", "pad"]))
    kind = draw(st.sampled_from(["chat", "caption", "offer", "pong"]))
    char = draw(st.sampled_from(["x", "é", "€", "\\ud800"]))
    return json.dumps({"type": kind, "to": TARGET, field: "PAD"}).replace("PAD", char * size)


# Each element: ("text", str) or ("bytes", bytes)
frames = st.one_of(
    mutated().map(lambda f: ("text", json.dumps(f))),
    st.sampled_from(VALID).map(lambda f: ("text", json.dumps(f))),
    json_values.map(lambda v: ("text", json.dumps(v))),
    st.fixed_dictionaries(
        {"type": st.sampled_from(CLIENT_TYPES)},
        optional={
            "to": json_values,
            "text": json_values,
            "sdp": json_values,
            "candidate": json_values,
            "peer_id": json_values,
        },
    ).map(lambda f: ("text", json.dumps(f))),
    huge().map(lambda s: ("text", s)),
    weird_text.map(lambda s: ("text", json.dumps(s)[1:-1])),
    st.binary(max_size=64).map(lambda b: ("bytes", b)),
)


def test_ten_thousand_random_frames_harm_nobody(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The fuzzer must not be rate limited away: every frame has to reach the protocol.
    settings.SIGNALING_RATE_PER_SECOND = 1_000_000
    settings.SIGNALING_RATE_BURST = 1_000_000
    course = CourseFactory.create()
    session = live_session(course=course)
    host_cookie = cookie_for(instructor_of(course))
    fuzzer_cookie = cookie_for(EnrollmentFactory.create(course=course).student)
    sent: list[int] = []
    host_saw: set[str] = set()
    fuzzer_errors: set[str] = set()

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=st.lists(frames, min_size=FRAMES_PER_EXAMPLE, max_size=FRAMES_PER_EXAMPLE))
    def fuzz(batch: list[tuple[str, Any]]) -> None:
        async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
            host = Peer(session.meeting_token, cookie=host_cookie)
            fuzzer = Peer(session.meeting_token, cookie=fuzzer_cookie)
            try:
                await host.join()
                await fuzzer.join()
                for kind, payload in batch:
                    if kind == "bytes":
                        await fuzzer.send_bytes(payload)
                    else:
                        await fuzzer.send_text(payload.replace(TARGET, host.peer_id))
                await fuzzer.send({"type": "chat", "text": "after the storm"})
                got, before = await host.wait_for(
                    lambda f: f.get("type") == "chat" and f.get("text") == "after the storm",
                    timeout=30,
                )
                host_saw.update(f["type"] for f in before)
                mine, answers = await fuzzer.wait_for(
                    lambda f: f.get("type") == "chat" and f.get("text") == "after the storm",
                    timeout=30,
                )
                fuzzer_errors.update(f["code"] for f in answers if f["type"] == "error")
                return got, mine
            finally:
                await host.close()
                await fuzzer.close()

        got, mine = run(scenario)
        assert got == mine
        sent.append(len(batch))

    with caplog.at_level(logging.ERROR):
        fuzz()

    assert sum(sent) >= 10_000
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    # Whatever reached the host is a frame of the protocol (relayed or broadcast), never an
    # error meant for the fuzzer.
    assert host_saw <= SERVER_TYPES - {"error", "welcome"}
    # The mix reached every path: relays and broadcasts went through, every refusal was used.
    assert {"offer", "answer", "ice", "chat", "peer-state", "caption"} <= host_saw
    assert fuzzer_errors == {
        "bad_message",
        "unknown_type",
        "not_allowed",
        "too_large",
        "no_such_peer",
    }
