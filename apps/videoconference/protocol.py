"""The signaling protocol (docs/signaling.md) as pure functions: no database, no sockets.

`read_frame` turns one WebSocket frame into a typed client frame or raises `FrameError` with one
of the contract's error codes; the `*_frame` builders make every server frame; `close_code_for`
maps a refusal to a close code (the per-connection token bucket is `apps.core.ratelimit`). The
consumer only moves what these return between the socket, the channel layer and `room`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Literal, TypeAlias

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, NotAllowed, NotFound, NotSignedIn
from apps.videoconference.errors import SessionEnded, SessionNotLive

# --- Limits -----------------------------------------------------------------------------------
MAX_FRAME_BYTES = 64 * 1024
MAX_CHAT_CHARS = 2000
MAX_CAPTION_CHARS = 500
MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 2048
MAX_PEER_ID_CHARS = 64
MAX_SDP_MID_CHARS = 256
MAX_UFRAG_CHARS = 256
MAX_SDP_MLINE_INDEX = 65535
CHAT_HISTORY_SIZE = 50
STATE_FIELDS = ("audio", "video", "screen", "hand")


class ErrorCode(StrEnum):
    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    NOT_ALLOWED = "not_allowed"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    NO_SUCH_PEER = "no_such_peer"


class CloseCode(IntEnum):
    NOT_SIGNED_IN = 4401
    NOT_ALLOWED = 4403  # not allowed, removed, denied, full
    NO_SUCH_SESSION = 4404
    PEER_TIMEOUT = 4408
    NOT_LIVE = 4409  # not started yet, ended or cancelled
    RATE_LIMITED = 4429
    INTERNAL = 1011


MESSAGES: dict[ErrorCode, Any] = {
    ErrorCode.BAD_MESSAGE: _("That message could not be understood."),
    ErrorCode.UNKNOWN_TYPE: _("Unknown message type."),
    ErrorCode.NOT_ALLOWED: _("You are not allowed to do that."),
    ErrorCode.RATE_LIMITED: _("You are sending messages too fast; some were dropped."),
    ErrorCode.TOO_LARGE: _("That message is too large."),
    ErrorCode.NO_SUCH_PEER: _("There is no such participant in this session."),
}
GENERIC_FAILURE = _("Something went wrong handling that message; please try again.")


class FrameError(Exception):
    """A frame the server will not act on; the connection stays open."""

    def __init__(self, code: ErrorCode, message: Any = None) -> None:
        self.code = code
        self.message = message if message is not None else MESSAGES[code]
        super().__init__(code.value)


# --- Client frames, typed ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Description:
    """`offer` or `answer`: a session description for one peer."""

    kind: Literal["offer", "answer"]
    to: str
    sdp_type: str
    sdp: str


@dataclass(frozen=True, slots=True)
class Ice:
    to: str
    candidate: dict[str, Any] | None  # normalised RTCIceCandidateInit, or None (end of candidates)


@dataclass(frozen=True, slots=True)
class Chat:
    text: str


@dataclass(frozen=True, slots=True)
class State:
    changes: dict[str, bool]


@dataclass(frozen=True, slots=True)
class Caption:
    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class HostAction:
    action: Literal["mute", "remove", "admit", "deny"]
    peer_id: str


@dataclass(frozen=True, slots=True)
class End:
    pass


@dataclass(frozen=True, slots=True)
class Pong:
    pass


ClientFrame: TypeAlias = Description | Ice | Chat | State | Caption | HostAction | End | Pong
Relay: TypeAlias = Description | Ice

CLIENT_TYPES = frozenset(
    {"offer", "answer", "ice", "chat", "state", "caption", "mute", "remove", "admit", "deny"}
    | {"end", "pong"}
)
HOST_ONLY_TYPES = frozenset({"mute", "remove", "admit", "deny", "end"})
LOBBY_TYPES = frozenset({"pong"})  # all a peer waiting in the lobby may send
SDP_TYPES: dict[str, frozenset[str]] = {
    "offer": frozenset({"offer", "rollback"}),
    "answer": frozenset({"answer", "pranswer"}),
}


def _bad(message: Any = None) -> FrameError:
    return FrameError(ErrorCode.BAD_MESSAGE, message)


def _is_encodable(text: str) -> bool:
    """False for text holding lone surrogates (JSON `"\\ud800"`): it cannot be sent or stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string(
    data: Mapping[str, Any], key: str, *, max_chars: int, min_chars: int = 0, nullable: bool = False
) -> Any:
    value = data.get(key)
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise _bad(_("The field “%(field)s” must be text.") % {"field": key})
    if not min_chars <= len(value) <= max_chars or not _is_encodable(value) or "\x00" in value:
        raise _bad(
            _("The field “%(field)s” must be %(min)s to %(max)s characters of text.")
            % {"field": key, "min": min_chars, "max": max_chars}
        )
    return value


def _peer_id(data: Mapping[str, Any], key: str) -> str:
    value: str = _string(data, key, min_chars=1, max_chars=MAX_PEER_ID_CHARS)
    return value


def decode(text: str | None, data: bytes | None = None) -> dict[str, Any]:
    """The JSON object in one WebSocket frame; raises FrameError (too_large, bad_message)."""
    if text is None:
        if data is not None and len(data) > MAX_FRAME_BYTES:
            raise FrameError(ErrorCode.TOO_LARGE)
        raise _bad(_("Send JSON objects in text frames."))
    # Characters <= bytes in UTF-8, so only long frames need encoding to be measured.
    if len(text) > MAX_FRAME_BYTES or (
        len(text) * 4 > MAX_FRAME_BYTES
        and len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
    ):
        raise FrameError(ErrorCode.TOO_LARGE)
    try:
        content = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
        raise _bad(_("That message is not valid JSON.")) from None
    if not isinstance(content, dict):
        raise _bad(_("Send a JSON object with a “type”."))
    if not isinstance(content.get("type"), str):
        raise _bad(_("Send a JSON object with a “type”."))
    return content


def authorize(frame_type: str, *, is_host: bool, admitted: bool) -> None:
    """Raise not_allowed for a frame the sender's role may not send (unknown types first)."""
    if frame_type not in CLIENT_TYPES:
        raise FrameError(ErrorCode.UNKNOWN_TYPE)
    if not admitted and frame_type not in LOBBY_TYPES:
        raise FrameError(ErrorCode.NOT_ALLOWED, _("Please wait until a host lets you in."))
    if frame_type in HOST_ONLY_TYPES and not is_host:
        raise FrameError(ErrorCode.NOT_ALLOWED, _("Only a host may do that."))


def _candidate(data: Mapping[str, Any]) -> dict[str, Any] | None:
    if "candidate" not in data:
        raise _bad(_("An “ice” message needs a “candidate” (an object or null)."))
    raw = data["candidate"]
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad(_("An “ice” message needs a “candidate” (an object or null)."))
    candidate: dict[str, Any] = {
        "candidate": _string(raw, "candidate", max_chars=MAX_CANDIDATE_CHARS)
    }
    if "sdpMid" in raw:
        candidate["sdpMid"] = _string(raw, "sdpMid", max_chars=MAX_SDP_MID_CHARS, nullable=True)
    if "sdpMLineIndex" in raw:
        index = raw["sdpMLineIndex"]
        if index is not None and (type(index) is not int or not 0 <= index <= MAX_SDP_MLINE_INDEX):
            raise _bad(_("“sdpMLineIndex” must be a small whole number or null."))
        candidate["sdpMLineIndex"] = index
    if "usernameFragment" in raw:
        candidate["usernameFragment"] = _string(
            raw, "usernameFragment", max_chars=MAX_UFRAG_CHARS, nullable=True
        )
    return candidate


def validate(content: Mapping[str, Any]) -> ClientFrame:
    """The typed frame for a decoded, authorized object; unknown extra fields are ignored."""
    kind = content["type"]
    if kind in ("offer", "answer"):
        to = _peer_id(content, "to")
        sdp = content.get("sdp")
        if not isinstance(sdp, dict):
            raise _bad(_("An “%(type)s” needs an “sdp” object.") % {"type": kind})
        sdp_type = sdp.get("type")
        if not isinstance(sdp_type, str) or sdp_type not in SDP_TYPES[kind]:
            raise _bad(_("The description's type does not fit an “%(type)s”.") % {"type": kind})
        body: str = _string(
            sdp, "sdp", max_chars=MAX_SDP_CHARS, min_chars=0 if sdp_type == "rollback" else 1
        )
        return Description(kind=kind, to=to, sdp_type=sdp_type, sdp=body)
    if kind == "ice":
        return Ice(to=_peer_id(content, "to"), candidate=_candidate(content))
    if kind == "chat":
        text = content.get("text")
        if not isinstance(text, str):
            raise _bad(_("A chat message needs “text”."))
        text = text.strip()
        return Chat(text=_string({"text": text}, "text", min_chars=1, max_chars=MAX_CHAT_CHARS))
    if kind == "state":
        changes: dict[str, bool] = {}
        for name in STATE_FIELDS:
            if name in content:
                value = content[name]
                if not isinstance(value, bool):
                    raise _bad(_("“%(field)s” must be true or false.") % {"field": name})
                changes[name] = value
        if not changes:
            raise _bad(_("A state message needs one of audio, video, screen or hand."))
        return State(changes=changes)
    if kind == "caption":
        text = _string(content, "text", min_chars=1, max_chars=MAX_CAPTION_CHARS)
        final = content.get("final", False)
        if not isinstance(final, bool):
            raise _bad(_("“final” must be true or false."))
        return Caption(text=text, final=final)
    if kind in ("mute", "remove", "admit", "deny"):
        return HostAction(action=kind, peer_id=_peer_id(content, "peer_id"))
    if kind == "end":
        return End()
    if kind == "pong":
        return Pong()
    raise FrameError(ErrorCode.UNKNOWN_TYPE)  # pragma: no cover - authorize() refuses these first


def read_frame(
    text: str | None, data: bytes | None = None, *, is_host: bool, admitted: bool
) -> ClientFrame:
    """Decode, authorize and validate one client frame; raises FrameError."""
    content = decode(text, data)
    authorize(content["type"], is_host=is_host, admitted=admitted)
    return validate(content)


# --- Server frames --------------------------------------------------------------------------
Frame: TypeAlias = dict[str, Any]


def encode(frame: Mapping[str, Any]) -> str:
    """Compact JSON; every string in a frame was validated as encodable UTF-8 or came from us."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def peer(
    *,
    peer_id: str,
    user_id: int,
    name: str,
    role: str,
    audio: bool,
    video: bool,
    screen: bool,
    hand: bool,
) -> Frame:
    """PEER: `{"peer_id","user":{"id","name"},"role","audio","video","screen","hand"}`."""
    return {
        "peer_id": peer_id,
        "user": {"id": user_id, "name": name},
        "role": role,
        "audio": audio,
        "video": video,
        "screen": screen,
        "hand": hand,
    }


def welcome_frame(
    *,
    peer_id: str,
    role: str,
    user: Mapping[str, Any],
    session: Mapping[str, Any],
    peers: list[Frame],
    ice_servers: list[Frame],
    chat: list[Frame],
    lobby: list[Frame] | None = None,
) -> Frame:
    frame: Frame = {
        "type": "welcome",
        "peer_id": peer_id,
        "role": role,
        "user": dict(user),
        "session": dict(session),
        "peers": peers,
        "ice_servers": ice_servers,
        "chat": chat,
    }
    if lobby is not None:  # hosts only
        frame["lobby"] = lobby
    return frame


def peer_joined_frame(peer_dict: Frame) -> Frame:
    return {"type": "peer-joined", "peer": peer_dict}


def peer_left_frame(peer_id: str) -> Frame:
    return {"type": "peer-left", "peer_id": peer_id}


def relay_frame(frame: Relay, *, sender: str) -> Frame:
    """What the addressee of an offer, answer or ice receives: the frame with `from` added."""
    if isinstance(frame, Description):
        return {
            "type": frame.kind,
            "from": sender,
            "to": frame.to,
            "sdp": {"type": frame.sdp_type, "sdp": frame.sdp},
        }
    return {"type": "ice", "from": sender, "to": frame.to, "candidate": frame.candidate}


def chat_frame(
    *, message_id: int, sender: str | None, user_id: int, name: str, text: str, sent_at: str
) -> Frame:
    """`sender` is the peer id that sent it; None in the welcome's history (peers come and go)."""
    return {
        "type": "chat",
        "id": message_id,
        "from": sender,
        "user": {"id": user_id, "name": name},
        "text": text,
        "sent_at": sent_at,
    }


def peer_state_frame(peer_id: str, changes: Mapping[str, bool]) -> Frame:
    return {"type": "peer-state", "peer_id": peer_id, **changes}


def caption_frame(*, sender: str, text: str, final: bool) -> Frame:
    return {"type": "caption", "from": sender, "text": text, "final": final}


def muted_by_host_frame() -> Frame:
    return {"type": "muted-by-host"}


def removed_frame() -> Frame:
    return {"type": "removed"}


def session_ended_frame() -> Frame:
    return {"type": "session-ended"}


def lobby_frame() -> Frame:
    return {"type": "lobby"}


def lobby_waiting_frame(peer_dict: Frame) -> Frame:
    return {"type": "lobby-waiting", "peer": peer_dict}


def lobby_left_frame(peer_id: str) -> Frame:
    return {"type": "lobby-left", "peer_id": peer_id}


def ping_frame() -> Frame:
    return {"type": "ping"}


def error_frame(code: ErrorCode, message: Any = None) -> Frame:
    return {
        "type": "error",
        "code": code.value,
        "message": str(message if message is not None else MESSAGES[code]),
    }


def frame_error_frame(error: FrameError) -> Frame:
    return error_frame(error.code, error.message)


# --- Refusals and domain errors -------------------------------------------------------------
def close_code_for(error: DomainError) -> CloseCode:
    """The close code for a refused connection (the order matters: subclasses first)."""
    if isinstance(error, NotSignedIn):
        return CloseCode.NOT_SIGNED_IN
    if isinstance(error, SessionEnded | SessionNotLive):
        return CloseCode.NOT_LIVE
    if isinstance(error, NotFound):
        return CloseCode.NO_SUCH_SESSION
    if isinstance(error, NotAllowed):
        return CloseCode.NOT_ALLOWED
    return CloseCode.INTERNAL


def error_code_for(error: DomainError) -> ErrorCode:
    """The `error` frame code for a DomainError raised while handling a frame."""
    if isinstance(error, NotFound):
        return ErrorCode.NO_SUCH_PEER
    if isinstance(error, NotAllowed | NotSignedIn):
        return ErrorCode.NOT_ALLOWED
    return ErrorCode.BAD_MESSAGE


# --- Rate limiting: the per-connection token bucket lives in apps.core.ratelimit ---------------
