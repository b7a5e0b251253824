"""The signaling protocol's rules, without sockets or a database: what a client may send, what
the server answers, close codes and the rate limiter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.core.errors import NotAllowed, NotFound, NotSignedIn, RateLimited
from apps.core.ratelimit import RateLimiter, Verdict
from apps.videoconference import protocol
from apps.videoconference.errors import (
    HostNotAllowed,
    JoinNotAllowed,
    PeerNotFound,
    SessionEnded,
    SessionFull,
    SessionNotFound,
    SessionNotLive,
)
from apps.videoconference.protocol import CloseCode, ErrorCode, FrameError

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def read(frame: Any, *, is_host: bool = False, admitted: bool = True) -> protocol.ClientFrame:
    text = frame if isinstance(frame, str) else json.dumps(frame)
    return protocol.read_frame(text, is_host=is_host, admitted=admitted)


def error_of(frame: Any, **kwargs: Any) -> ErrorCode:
    with pytest.raises(FrameError) as caught:
        read(frame, **kwargs)
    assert str(caught.value.message)  # always a message a person can read
    return caught.value.code


# --- Decoding -------------------------------------------------------------------------------
def padded(size: int, char: str = "a") -> str:
    """A pong frame of exactly `size` UTF-8 bytes (with 1-byte `char`)."""
    head, tail = '{"type":"pong","pad":"', '"}'
    return head + char * (size - len(head) - len(tail)) + tail


def test_frame_of_exactly_64_kib_is_accepted_and_one_byte_more_is_too_large() -> None:
    assert read(padded(64 * 1024)) == protocol.Pong()
    assert error_of(padded(64 * 1024 + 1)) == ErrorCode.TOO_LARGE


def test_size_is_counted_in_utf8_bytes_not_characters() -> None:
    three_byte_chars = '{"type":"pong","pad":"' + "€" * 22_000 + '"}'  # 22k chars, 66k bytes
    assert len(three_byte_chars) < 64 * 1024
    assert error_of(three_byte_chars) == ErrorCode.TOO_LARGE
    assert read('{"type":"pong","pad":"' + "é" * 20_000 + '"}') == protocol.Pong()


def test_binary_frames_are_refused() -> None:
    with pytest.raises(FrameError) as small:
        protocol.read_frame(None, b'{"type":"pong"}', is_host=False, admitted=True)
    with pytest.raises(FrameError) as huge:
        protocol.read_frame(None, b"x" * (64 * 1024 + 1), is_host=False, admitted=True)
    assert small.value.code == ErrorCode.BAD_MESSAGE
    assert huge.value.code == ErrorCode.TOO_LARGE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[1, 2]",
        '"pong"',
        "42",
        "null",
        "{}",
        '{"type": 7}',
        '{"type": null}',
        '{"type": ["chat"]}',
        "[" * 20_000 + "]" * 20_000,  # deeper than Python's recursion limit
        '{"type": "chat", "text": NaN}',
        '{"type": "state", "audio": 1}',
        '{"type": "chat", "n": ' + "9" * 5000 + "}",  # past Python's int-digits limit
    ],
)
def test_unusable_json_is_a_bad_message(text: str) -> None:
    assert error_of(text) == ErrorCode.BAD_MESSAGE


@pytest.mark.parametrize("kind", ["shout", "welcome", "ping", "peer-joined", "", "CHAT"])
def test_unknown_types_are_named_as_such(kind: str) -> None:
    assert error_of({"type": kind}) == ErrorCode.UNKNOWN_TYPE


# --- Who may send what ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "frame",
    [
        {"type": "mute", "peer_id": "p"},
        {"type": "remove", "peer_id": "p"},
        {"type": "admit", "peer_id": "p"},
        {"type": "deny", "peer_id": "p"},
        {"type": "end"},
    ],
)
def test_host_actions_are_for_hosts_only(frame: dict[str, Any]) -> None:
    assert error_of(frame, is_host=False) == ErrorCode.NOT_ALLOWED
    assert isinstance(read(frame, is_host=True), protocol.HostAction | protocol.End)


def test_host_only_check_comes_before_field_checks() -> None:
    """A participant learns "not allowed", not how to shape a host frame."""
    assert error_of({"type": "mute"}, is_host=False) == ErrorCode.NOT_ALLOWED


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "chat", "text": "let me in"},
        {"type": "state", "hand": True},
        {"type": "caption", "text": "hi"},
        {"type": "ice", "to": "p", "candidate": None},
        {"type": "offer", "to": "p", "sdp": {"type": "offer", "sdp": SDP}},
        {"type": "end"},
    ],
)
def test_a_peer_waiting_in_the_lobby_may_only_answer_pings(frame: dict[str, Any]) -> None:
    assert error_of(frame, admitted=False, is_host=True) == ErrorCode.NOT_ALLOWED
    assert read({"type": "pong"}, admitted=False) == protocol.Pong()


# --- Relay frames ---------------------------------------------------------------------------
def test_offer_and_answer_become_descriptions() -> None:
    offer = read({"type": "offer", "to": "bob", "sdp": {"type": "offer", "sdp": SDP}, "x": 1})
    answer = read({"type": "answer", "to": "al", "sdp": {"type": "pranswer", "sdp": SDP}})

    assert offer == protocol.Description(kind="offer", to="bob", sdp_type="offer", sdp=SDP)
    assert answer == protocol.Description(kind="answer", to="al", sdp_type="pranswer", sdp=SDP)


def test_rollback_may_have_an_empty_description() -> None:
    frame = read({"type": "offer", "to": "bob", "sdp": {"type": "rollback", "sdp": ""}})
    assert frame == protocol.Description(kind="offer", to="bob", sdp_type="rollback", sdp="")


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "offer", "to": "bob"},
        {"type": "offer", "to": "bob", "sdp": SDP},
        {"type": "offer", "to": "bob", "sdp": {"type": "answer", "sdp": SDP}},
        {"type": "answer", "to": "bob", "sdp": {"type": "offer", "sdp": SDP}},
        {"type": "answer", "to": "bob", "sdp": {"type": "rollback", "sdp": ""}},
        {"type": "offer", "to": "bob", "sdp": {"type": "offer", "sdp": ""}},
        {"type": "offer", "to": "bob", "sdp": {"type": "offer", "sdp": 5}},
        {"type": "offer", "to": "bob", "sdp": {"type": "offer", "sdp": "x" * 60_001}},
        {"type": "offer", "to": "bob", "sdp": {"sdp": SDP}},
        {"type": "offer", "to": "bob", "sdp": {"type": ["offer"], "sdp": SDP}},  # found by fuzz
        {"type": "answer", "to": "bob", "sdp": {"type": {"a": 1}, "sdp": SDP}},
        {"type": "offer", "sdp": {"type": "offer", "sdp": SDP}},
        {"type": "offer", "to": "", "sdp": {"type": "offer", "sdp": SDP}},
        {"type": "offer", "to": 3, "sdp": {"type": "offer", "sdp": SDP}},
        {"type": "offer", "to": "x" * 65, "sdp": {"type": "offer", "sdp": SDP}},
    ],
)
def test_malformed_descriptions_are_bad_messages(frame: dict[str, Any]) -> None:
    assert error_of(frame) == ErrorCode.BAD_MESSAGE


def test_sdp_of_60000_characters_is_accepted() -> None:
    frame = read({"type": "offer", "to": "b", "sdp": {"type": "offer", "sdp": "x" * 60_000}})
    assert isinstance(frame, protocol.Description)
    assert len(frame.sdp) == 60_000


def test_ice_candidates_are_normalised() -> None:
    full = read(
        {
            "type": "ice",
            "to": "bob",
            "candidate": {
                "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
                "usernameFragment": "abcd",
                "unknown": "dropped",
            },
        }
    )
    end = read({"type": "ice", "to": "bob", "candidate": None})
    bare = read({"type": "ice", "to": "bob", "candidate": {"candidate": "", "sdpMid": None}})

    assert full == protocol.Ice(
        to="bob",
        candidate={
            "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "abcd",
        },
    )
    assert end == protocol.Ice(to="bob", candidate=None)
    assert bare == protocol.Ice(to="bob", candidate={"candidate": "", "sdpMid": None})


@pytest.mark.parametrize(
    "candidate",
    [
        "candidate:1 1 udp",
        [],
        {},
        {"candidate": None},
        {"candidate": "x" * 2049},
        {"candidate": "c", "sdpMid": 0},
        {"candidate": "c", "sdpMLineIndex": True},
        {"candidate": "c", "sdpMLineIndex": "0"},
        {"candidate": "c", "sdpMLineIndex": -1},
        {"candidate": "c", "sdpMLineIndex": 1.5},
        {"candidate": "c", "usernameFragment": 7},
    ],
)
def test_malformed_ice_candidates_are_bad_messages(candidate: Any) -> None:
    assert error_of({"type": "ice", "to": "bob", "candidate": candidate}) == ErrorCode.BAD_MESSAGE


def test_ice_needs_its_candidate_field() -> None:
    assert error_of({"type": "ice", "to": "bob"}) == ErrorCode.BAD_MESSAGE


def test_relay_frame_adds_from_and_keeps_only_known_fields() -> None:
    offer = protocol.Description(kind="offer", to="bob", sdp_type="offer", sdp=SDP)
    ice = protocol.Ice(to="bob", candidate=None)

    assert protocol.relay_frame(offer, sender="al") == {
        "type": "offer",
        "from": "al",
        "to": "bob",
        "sdp": {"type": "offer", "sdp": SDP},
    }
    assert protocol.relay_frame(ice, sender="al") == {
        "type": "ice",
        "from": "al",
        "to": "bob",
        "candidate": None,
    }


# --- Chat, state, captions ------------------------------------------------------------------
def test_chat_text_is_trimmed_and_limited_to_2000_characters() -> None:
    assert read({"type": "chat", "text": "  hi \n"}) == protocol.Chat(text="hi")
    assert read({"type": "chat", "text": "x" * 2000}) == protocol.Chat(text="x" * 2000)
    assert read({"type": "chat", "text": " " + "x" * 2000 + " "}) == protocol.Chat(text="x" * 2000)
    assert error_of({"type": "chat", "text": "x" * 2001}) == ErrorCode.BAD_MESSAGE


@pytest.mark.parametrize("text", ["", "   \n\t", None, 5, ["hi"], "a\x00b", "\ud800"])
def test_unusable_chat_text_is_a_bad_message(text: Any) -> None:
    assert error_of({"type": "chat", "text": text}) == ErrorCode.BAD_MESSAGE


def test_lone_surrogates_sent_as_json_escapes_are_refused() -> None:
    """`"\\ud800"` is valid JSON but no valid text: it could be neither stored nor sent on."""
    assert error_of('{"type": "chat", "text": "\\ud800 hi"}') == ErrorCode.BAD_MESSAGE
    assert read('{"type": "chat", "text": "\\ud83d\\ude00"}') == protocol.Chat(text="😀")


def test_state_takes_any_of_the_four_flags() -> None:
    frame = read({"type": "state", "audio": False, "hand": True, "colour": "red"})
    assert frame == protocol.State(changes={"audio": False, "hand": True})


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "state"},
        {"type": "state", "colour": "red"},
        {"type": "state", "audio": "false"},
        {"type": "state", "video": 0},
        {"type": "state", "screen": None},
    ],
)
def test_malformed_state_is_a_bad_message(frame: dict[str, Any]) -> None:
    assert error_of(frame) == ErrorCode.BAD_MESSAGE


def test_captions_are_limited_to_500_characters() -> None:
    assert read({"type": "caption", "text": "x" * 500, "final": True}) == protocol.Caption(
        text="x" * 500, final=True
    )
    assert read({"type": "caption", "text": "so"}) == protocol.Caption(text="so", final=False)
    assert error_of({"type": "caption", "text": "x" * 501}) == ErrorCode.BAD_MESSAGE
    assert error_of({"type": "caption", "text": ""}) == ErrorCode.BAD_MESSAGE
    assert error_of({"type": "caption", "text": "so", "final": "yes"}) == ErrorCode.BAD_MESSAGE


@pytest.mark.parametrize("peer_id", [None, "", 5, "x" * 65])
def test_host_actions_need_a_peer_id(peer_id: Any) -> None:
    assert error_of({"type": "mute", "peer_id": peer_id}, is_host=True) == ErrorCode.BAD_MESSAGE


# --- Server frames --------------------------------------------------------------------------
def test_welcome_carries_the_lobby_only_for_hosts() -> None:
    common: dict[str, Any] = {
        "peer_id": "me",
        "user": {"id": 1, "name": "Ada"},
        "session": {"id": 3, "title": "Maths", "status": "live"},
        "peers": [],
        "ice_servers": [],
        "chat": [],
    }
    host = protocol.welcome_frame(role="host", lobby=[], **common)
    participant = protocol.welcome_frame(role="participant", **common)

    assert host == {"type": "welcome", "role": "host", "lobby": [], **common}
    assert participant == {"type": "welcome", "role": "participant", **common}


def test_frames_are_compact_json_that_keeps_non_ascii_text() -> None:
    text = protocol.encode(protocol.caption_frame(sender="p", text="Grüße 😀", final=True))
    assert text == '{"type":"caption","from":"p","text":"Grüße 😀","final":true}'


def test_error_frames_carry_code_and_message() -> None:
    assert protocol.error_frame(ErrorCode.NO_SUCH_PEER) == {
        "type": "error",
        "code": "no_such_peer",
        "message": "There is no such participant in this session.",
    }
    assert {code.value for code in ErrorCode} == {
        "bad_message",
        "unknown_type",
        "not_allowed",
        "rate_limited",
        "too_large",
        "no_such_peer",
    }


def test_simple_server_frames() -> None:
    assert protocol.peer_left_frame("p") == {"type": "peer-left", "peer_id": "p"}
    assert protocol.peer_state_frame("p", {"audio": False}) == {
        "type": "peer-state",
        "peer_id": "p",
        "audio": False,
    }
    assert protocol.lobby_left_frame("p") == {"type": "lobby-left", "peer_id": "p"}
    assert protocol.session_ended_frame() == {"type": "session-ended"}
    assert protocol.muted_by_host_frame() == {"type": "muted-by-host"}
    assert protocol.removed_frame() == {"type": "removed"}
    assert protocol.ping_frame() == {"type": "ping"}


# --- Refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotSignedIn(), 4401),
        (JoinNotAllowed(), 4403),
        (HostNotAllowed(), 4403),
        (SessionFull(), 4403),
        (NotAllowed(), 4403),
        (SessionNotFound(), 4404),
        (NotFound(), 4404),
        (SessionNotLive(), 4409),
        (SessionEnded(), 4409),
        (RateLimited(), 1011),
    ],
)
def test_refusals_map_to_close_codes(error: Any, code: int) -> None:
    assert protocol.close_code_for(error) == code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PeerNotFound(), ErrorCode.NO_SUCH_PEER),
        (SessionFull(), ErrorCode.NOT_ALLOWED),
        (HostNotAllowed(), ErrorCode.NOT_ALLOWED),
        (SessionEnded(), ErrorCode.BAD_MESSAGE),
    ],
)
def test_errors_while_handling_a_frame_map_to_error_codes(error: Any, code: ErrorCode) -> None:
    assert protocol.error_code_for(error) == code


def test_close_codes_are_the_documented_ones() -> None:
    assert {int(c) for c in CloseCode} == {4401, 4403, 4404, 4408, 4409, 4429, 1011}


# --- Rate limiting --------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_drops_telling_the_client_once_a_second() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)

    verdicts = [limiter.check() for _ in range(5)]
    clock.now += 0.2  # not yet a token back (0.4), and under a second since the notice
    later = limiter.check()
    clock.now += 1.0  # 2.4 tokens back
    after_a_second = [limiter.check() for _ in range(3)]

    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.DROP_AND_TELL, Verdict.DROP]
    assert later == Verdict.DROP
    assert after_a_second == [Verdict.ALLOW, Verdict.ALLOW, Verdict.DROP_AND_TELL]


def test_sustained_rate_is_allowed_forever() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=2, clock=clock)

    verdicts = []
    for _ in range(1000):
        clock.now += 0.1
        verdicts.append(limiter.check())

    assert set(verdicts) == {Verdict.ALLOW}


def test_flood_past_another_bursts_worth_of_drops_closes() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=4, clock=clock)

    verdicts = [limiter.check() for _ in range(4 + 4 + 1)]

    assert verdicts[:4] == [Verdict.ALLOW] * 4
    assert Verdict.CLOSE not in verdicts[4:8]
    assert verdicts[8] == Verdict.CLOSE


def test_flood_that_refills_a_little_still_ends_in_a_close() -> None:
    """A flood at 100x the rate gets a token back now and then; the drops still add up."""
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=5, clock=clock)

    verdicts = []
    for _ in range(200):
        clock.now += 0.001
        verdicts.append(limiter.check())
        if verdicts[-1] == Verdict.CLOSE:
            break

    assert verdicts[-1] == Verdict.CLOSE


def test_a_quiet_second_forgives_earlier_drops() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=2, clock=clock)
    for _ in range(2 + 2):  # the burst, then two drops: one short of closing
        limiter.check()

    clock.now += 1.5  # a quiet second and a half: a token back, the episode over
    assert limiter.check() == Verdict.ALLOW
    assert [limiter.check() for _ in range(2)] == [Verdict.DROP_AND_TELL, Verdict.DROP]


def test_rate_limiter_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(rate=1, burst=0)
