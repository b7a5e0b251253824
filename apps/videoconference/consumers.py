"""The signaling socket (`/ws/videoconference/<token>/`, contract in docs/signaling.md).

Thin: `protocol` decides what a frame means and what goes out, `room` reads and writes the
room's rows, `policies` decides who may enter. A connection keeps only what is its own (its
peer id, rate-limit bucket, and a cache of peer id -> channel name for relaying); the room
itself is the session's Attendance rows plus channel-layer groups shared by every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import weakref
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull, InvalidChannelLayerError, StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.channel_layers import release_channel
from apps.core.errors import DomainError
from apps.core.ratelimit import RateLimiter, Verdict
from apps.videoconference import ice, policies, protocol, realtime, room, services
from apps.videoconference.models import VideoSession
from apps.videoconference.protocol import CloseCode, ErrorCode, FrameError

logger = logging.getLogger(__name__)

PING_TEXT = protocol.encode(protocol.ping_frame())
MISSING_CACHE_SIZE = 256
OUTBOX_LIMIT = 1000  # relayed frames waiting for a congested socket, as the layer's capacity

# Relays to a connection served by this same process skip the channel layer (a copy, a queue
# and a wake-up of the receiver per frame) and are written to its socket directly. This is not
# room state: it maps this process's own open sockets, and who is in the room still comes from
# the database and the layer's groups. Tests turn it off to exercise the layer path.
LOCAL_DELIVERY = True
_local_connections: weakref.WeakValueDictionary[str, SignalingConsumer] = (
    weakref.WeakValueDictionary()
)

_get_ticket = database_sync_to_async(policies.get_session_for_join)
_join = database_sync_to_async(room.join)
_admit = database_sync_to_async(room.admit)
_leave = database_sync_to_async(room.leave)
_heartbeat = database_sync_to_async(room.heartbeat)
_post_chat = database_sync_to_async(room.post_chat)
_set_state = database_sync_to_async(room.set_state)
_lookup_channel = database_sync_to_async(room.lookup_channel)
_mute = database_sync_to_async(room.mute)
_remove = database_sync_to_async(room.remove)
_deny = database_sync_to_async(room.deny)
_waiting_channel = database_sync_to_async(room.waiting_channel)


@database_sync_to_async
def _end_session(*, actor: Any, session_id: int) -> None:
    services.end_session(actor=actor, session=VideoSession.objects.get(pk=session_id))


class SignalingConsumer(AsyncWebsocketConsumer):
    """One peer's connection to a live session's room."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Any = None
        self.session_id = 0
        self.session_title = ""
        self.is_host = False
        self.admitted = False
        self.attendance_id: int | None = None
        self.peer_id = ""
        self.peer: dict[str, Any] = {}
        self.channels: dict[str, str] = {}  # admitted peers' channel names, by peer id
        self.missing: set[str] | None = None  # peer ids recently looked up in vain
        self.joined_groups: list[str] = []
        self.closing = False  # a server-side close has begun
        self.closed = False  # we closed (or lost) the socket: send nothing more
        self.beat_timer: asyncio.TimerHandle | None = None
        self.beat_task: asyncio.Task[None] | None = None
        self.next_beat = 0.0
        self.last_heard = 0.0
        self.limiter: RateLimiter | None = None
        self.outbox: deque[str] | None = None  # set while a direct relay write is in progress

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' AsyncConsumer.__call__, leaner for a high message rate.

        Channels multiplexes the client and the channel layer with `await_many_dispatch`, which
        makes a new task and an `asyncio.wait` for every message. Here the client's frames are
        read in this task and channel-layer events in one more, each loop handling its
        messages in order. Events start flowing only after `connect` has sent the welcome, so
        a client never hears of the room before it is in it.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        if self.channel_layer is None:
            raise InvalidChannelLayerError("The signaling socket needs a channel layer.")
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        events: asyncio.Task[None] | None = None
        try:
            while True:
                await self.dispatch(await receive())
                if events is None and self.attendance_id is not None and not self.closing:
                    events = asyncio.create_task(self._pump_events())
        except StopConsumer:
            pass
        finally:
            self.closing = True
            _local_connections.pop(self.channel_name, None)
            self._stop_heartbeat()
            if events is not None:
                events.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await events
            await release_channel(self.channel_layer, self.channel_name)

    async def _pump_events(self) -> None:
        while True:
            message = await self.channel_receive()
            try:
                await self.dispatch(message)
            except Exception:  # one bad event must not stop this connection hearing the room
                logger.exception(
                    "videoconference.signaling.event_failed",
                    extra={
                        "event": "videoconference.signaling.event_failed",
                        "session_id": self.session_id,
                        "peer_id": self.peer_id,
                        "message_type": message.get("type"),
                    },
                )

    # Channels' AsyncConsumer.dispatch awaits `aclose_old_connections()` (a hop to the sync
    # thread that every connection's database work shares) before *every* message, so that
    # handlers using the ORM directly find a usable connection. This consumer never touches
    # the ORM outside `database_sync_to_async`, which closes stale connections itself on the
    # thread that owns them, before and after each call. Skipping the hop keeps relays, pings
    # and frames to clients off that shared thread: they are the hot path, and each hop would
    # queue behind other connections' database work.
    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None or message["type"].startswith("_"):
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- Connecting ---------------------------------------------------------------------------
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        token = self.scope["url_route"]["kwargs"]["token"]
        try:
            ticket = await _get_ticket(user=self.user, token=token)
        except DomainError as error:
            await self._refuse(error)
            return
        # Only what the connection needs: a session object (with its course and host) would
        # be kept alive for every idle connection.
        self.session_id = ticket.session.pk
        self.session_title = ticket.session.title
        self.is_host = ticket.is_host
        # Join the groups before the row exists: whoever joins after our row is written will
        # broadcast `peer-joined` after that, and we must already be listening.
        groups = [
            realtime.lobby_group(self.session_id)
            if ticket.needs_admission
            else realtime.room_group(self.session_id)
        ]
        if self.is_host:
            groups.append(realtime.hosts_group(self.session_id))
        for group in groups:
            await self._group_add(group)
        try:
            entry = await _join(
                session=ticket.session,
                user=self.user,
                channel_name=self.channel_name,
                is_host=ticket.is_host,
                needs_admission=ticket.needs_admission,
            )
        except DomainError as error:
            await self._discard_groups()
            await self._refuse(error)
            return
        loop = asyncio.get_running_loop()
        self.last_heard = loop.time()
        self.limiter = RateLimiter(
            rate=settings.SIGNALING_RATE_PER_SECOND,
            burst=settings.SIGNALING_RATE_BURST,
            clock=loop.time,
        )
        self.attendance_id = entry.attendance_id
        self.peer_id = entry.peer_id
        self.peer = entry.peer
        _local_connections[self.channel_name] = self
        await self.accept()
        if entry.admitted:
            await self._enter(entry)
        else:
            await self._send_frame(protocol.lobby_frame())
            await self._to_group(
                realtime.hosts_group(self.session_id), protocol.lobby_waiting_frame(self.peer)
            )
        self.next_beat = loop.time() + self._heartbeat_interval() * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        self._schedule_heartbeat()

    async def _refuse(self, error: DomainError) -> None:
        """Accept, then close with the code, so browsers see the code (not a failed handshake)."""
        code = protocol.close_code_for(error)
        await self.accept()
        if code == CloseCode.NOT_ALLOWED:
            await self._send_frame(protocol.error_frame(ErrorCode.NOT_ALLOWED, error.message))
        self.closing = self.closed = True
        await self.close(code=int(code), reason=error.code)

    async def _enter(self, entry: room.Entry) -> None:
        """Send the welcome and announce ourselves to the room."""
        self.admitted = True
        self.channels.update(entry.channels)
        await self._send_frame(
            protocol.welcome_frame(
                peer_id=self.peer_id,
                role="host" if self.is_host else "participant",
                user=self.peer["user"],
                session={
                    "id": self.session_id,
                    "title": self.session_title,
                    "status": VideoSession.Status.LIVE.value,
                },
                peers=entry.peers,
                ice_servers=ice.ice_servers_for(self.user.pk),
                chat=entry.chat,
                lobby=entry.lobby,
            )
        )
        await self.channel_layer.group_send(
            realtime.room_group(self.session_id),
            {
                "type": realtime.ROOM_FRAME,
                "text": protocol.encode(protocol.peer_joined_frame(self.peer)),
                "exclude": self.peer_id,
                # For the others' relay caches; never sent to a client.
                "joined": {"peer_id": self.peer_id, "channel_name": self.channel_name},
            },
        )

    # --- Frames from the client ---------------------------------------------------------------
    async def websocket_receive(self, message: dict[str, Any]) -> None:
        if self.closed or self.limiter is None:
            return
        self.last_heard = asyncio.get_running_loop().time()  # any frame is a sign of life
        verdict = self.limiter.check()
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.CLOSE:
                await self._shutdown(CloseCode.RATE_LIMITED, reason="rate_limited")
            elif verdict is Verdict.DROP_AND_TELL:
                await self._send_frame(protocol.error_frame(ErrorCode.RATE_LIMITED))
            return
        try:
            frame = protocol.read_frame(
                message.get("text"),
                message.get("bytes"),
                is_host=self.is_host,
                admitted=self.admitted,
            )
            await self._handle(frame)
        except FrameError as error:
            await self._send_frame(protocol.frame_error_frame(error))
        except DomainError as error:
            await self._send_frame(
                protocol.error_frame(protocol.error_code_for(error), error.message)
            )
        except Exception:
            logger.exception(
                "videoconference.signaling.frame_failed",
                extra={
                    "event": "videoconference.signaling.frame_failed",
                    "session_id": self.session_id,
                    "user_id": getattr(self.user, "pk", None),
                    "peer_id": self.peer_id,
                },
            )
            await self._send_frame(
                protocol.error_frame(ErrorCode.BAD_MESSAGE, protocol.GENERIC_FAILURE)
            )

    async def _handle(self, frame: protocol.ClientFrame) -> None:
        if isinstance(frame, protocol.Pong):
            return
        if isinstance(frame, protocol.Description | protocol.Ice):
            await self._relay(frame)
        elif isinstance(frame, protocol.Chat):
            chat = await _post_chat(
                session_id=self.session_id, user=self.user, text=frame.text, sender=self.peer_id
            )
            await self._to_room(chat)
        elif isinstance(frame, protocol.State):
            await _set_state(attendance_id=self.attendance_id, changes=frame.changes)
            await self._to_room(protocol.peer_state_frame(self.peer_id, frame.changes))
        elif isinstance(frame, protocol.Caption):
            await self._to_room(
                protocol.caption_frame(sender=self.peer_id, text=frame.text, final=frame.final)
            )
        elif isinstance(frame, protocol.HostAction):
            await self._host_action(frame)
        elif isinstance(frame, protocol.End):
            # Every connection of the session, in every process, hears `session-ended`.
            await _end_session(actor=self.user, session_id=self.session_id)

    async def _relay(self, frame: protocol.Relay) -> None:
        if frame.to == self.peer_id:
            raise FrameError(ErrorCode.NO_SUCH_PEER)
        channel = self.channels.get(frame.to)
        if channel is None and (self.missing is None or frame.to not in self.missing):
            channel = await _lookup_channel(session_id=self.session_id, peer_id=frame.to)
            if channel is None:
                if self.missing is None or len(self.missing) >= MISSING_CACHE_SIZE:
                    self.missing = set()
                self.missing.add(frame.to)
            else:
                self.channels[frame.to] = channel
        if channel is None:
            raise FrameError(ErrorCode.NO_SUCH_PEER)
        text = protocol.encode(protocol.relay_frame(frame, sender=self.peer_id))
        target = _local_connections.get(channel) if LOCAL_DELIVERY else None
        if target is not None:
            await target.deliver_relay(text)
            return
        try:
            await self.channel_layer.send(channel, {"type": realtime.PEER_RELAY, "text": text})
        except ChannelFull:
            logger.warning(
                "videoconference.signaling.relay_dropped",
                extra={
                    "event": "videoconference.signaling.relay_dropped",
                    "session_id": self.session_id,
                    "peer_id": self.peer_id,
                    "to": frame.to,
                },
            )

    async def _host_action(self, frame: protocol.HostAction) -> None:
        if frame.peer_id == self.peer_id:
            raise FrameError(ErrorCode.NO_SUCH_PEER)
        by = self.user.pk
        if frame.action == "mute":
            channel = await _mute(session_id=self.session_id, peer_id=frame.peer_id, by_user_id=by)
            await self._control(channel, "mute", by)
            await self._to_room(protocol.peer_state_frame(frame.peer_id, {"audio": False}))
        elif frame.action == "remove":
            for gone in await _remove(
                session_id=self.session_id, peer_id=frame.peer_id, by_user_id=by
            ):
                await self._control(gone.channel_name, "remove", by)
                await self._announce_gone(gone)
        elif frame.action == "admit":
            channel = await _waiting_channel(session_id=self.session_id, peer_id=frame.peer_id)
            await self._control(channel, "admit", by)
        elif frame.action == "deny":
            gone = await _deny(session_id=self.session_id, peer_id=frame.peer_id, by_user_id=by)
            await self._control(gone.channel_name, "deny", by)
            await self._announce_gone(gone)

    async def _control(self, channel: str, action: str, by: int) -> None:
        try:
            await self.channel_layer.send(
                channel, {"type": realtime.PEER_CONTROL, "action": action, "by": by}
            )
        except ChannelFull:
            logger.warning(
                "videoconference.signaling.control_dropped",
                extra={
                    "event": "videoconference.signaling.control_dropped",
                    "session_id": self.session_id,
                    "peer_id": self.peer_id,
                    "action": action,
                },
            )

    # --- Events from the channel layer --------------------------------------------------------
    async def room_frame(self, event: dict[str, Any]) -> None:
        """A frame for the room (or the hosts); `joined`/`left` keep the relay cache current."""
        if self.closed or not self.admitted:
            return
        exclude = event.get("exclude")
        if exclude is not None and exclude == self.peer_id:
            return
        joined = event.get("joined")
        if joined is not None:
            peer_id = joined["peer_id"]
            known = peer_id in self.channels
            self.channels[peer_id] = joined["channel_name"]
            if self.missing is not None:
                self.missing.discard(peer_id)
            if known or peer_id == self.peer_id:
                return  # already in our welcome: joined concurrently with us
        left = event.get("left")
        if left is not None and self.channels.pop(left, None) is None:
            return  # never announced to our client (it left before we entered)
        text = event.get("text")
        await self._send_text(text if text is not None else protocol.encode(event["frame"]))

    async def deliver_relay(self, text: str) -> None:
        """A relay from a connection in this process, written in the sender's task.

        A write normally completes at once. While one waits on a congested socket, later
        relays queue in `outbox` (sent in order by that waiting writer) instead of stalling
        their senders; past OUTBOX_LIMIT they are dropped, as the channel layer would.
        """
        if self.closing or not self.admitted:
            return
        if self.outbox is not None:
            if len(self.outbox) < OUTBOX_LIMIT:
                self.outbox.append(text)
            else:
                logger.warning(
                    "videoconference.signaling.relay_dropped",
                    extra={
                        "event": "videoconference.signaling.relay_dropped",
                        "session_id": self.session_id,
                        "peer_id": self.peer_id,
                    },
                )
            return
        self.outbox = deque()
        try:
            await self._send_text(text)
            while self.outbox:
                await self._send_text(self.outbox.popleft())
        finally:
            self.outbox = None

    async def peer_relay(self, event: dict[str, Any]) -> None:
        if self.closed or not self.admitted:
            return
        text = event.get("text")
        await self._send_text(text if text is not None else protocol.encode(event["frame"]))

    async def peer_control(self, event: dict[str, Any]) -> None:
        """A host acted on this connection."""
        if self.closed:
            return
        action = event.get("action")
        if action == "mute" and self.admitted:
            await self._send_frame(protocol.muted_by_host_frame())
        elif action == "remove":
            await self._shutdown(
                CloseCode.NOT_ALLOWED, reason="removed", frames=[protocol.removed_frame()]
            )
        elif action == "admit" and not self.admitted:
            await self._admitted(by=event.get("by"))
        elif action == "deny" and not self.admitted:
            await self._shutdown(
                CloseCode.NOT_ALLOWED,
                reason="denied",
                frames=[
                    protocol.error_frame(
                        ErrorCode.NOT_ALLOWED, _("A host did not let you into this session.")
                    )
                ],
            )

    async def _admitted(self, *, by: int | None) -> None:
        room_group = realtime.room_group(self.session_id)
        await self._group_add(room_group)  # before the row changes, as when joining
        entry = await _admit(
            attendance_id=self.attendance_id,
            name=self.user.display_name,
            is_host=self.is_host,
            by_user_id=by,
        )
        if entry is None:
            await self._group_discard(room_group)
            return
        await self._group_discard(realtime.lobby_group(self.session_id))
        await self._enter(entry)
        await self._to_group(
            realtime.hosts_group(self.session_id), protocol.lobby_left_frame(self.peer_id)
        )

    async def room_ended(self, event: dict[str, Any]) -> None:
        # end_session has already marked every connection left.
        await self._shutdown(
            CloseCode.NOT_LIVE,
            reason="session_ended",
            frames=[protocol.session_ended_frame()],
            leave=False,
        )

    # --- Liveness ------------------------------------------------------------------------------
    # A timer, not a sleeping task, per connection: idle connections are most connections,
    # and a timer handle is a small fraction of a task's memory.
    @staticmethod
    def _heartbeat_interval() -> float:
        return float(settings.SIGNALING_HEARTBEAT_SECONDS)

    def _schedule_heartbeat(self) -> None:
        """Wake at the next ping (every SIGNALING_HEARTBEAT_SECONDS with jitter, so a room's
        connections do not hit the database together) or when the peer would time out."""
        if self.closing:
            return
        timeout = float(settings.SIGNALING_PEER_TIMEOUT_SECONDS)
        wake = min(self.next_beat, self.last_heard + timeout)
        self.beat_timer = asyncio.get_running_loop().call_at(wake, self._heartbeat_due)

    def _heartbeat_due(self) -> None:
        self.beat_timer = None
        if not self.closing:
            self.beat_task = asyncio.create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            now = loop.time()
            if now - self.last_heard >= float(settings.SIGNALING_PEER_TIMEOUT_SECONDS):
                await self._shutdown(CloseCode.PEER_TIMEOUT, reason="timeout")
                return
            if now >= self.next_beat:
                jitter = random.uniform(0.9, 1.1)  # noqa: S311
                self.next_beat = now + self._heartbeat_interval() * jitter
                await self._send_text(PING_TEXT)
                await self._beat()
        except Exception:
            logger.exception(
                "videoconference.signaling.heartbeat_failed",
                extra={
                    "event": "videoconference.signaling.heartbeat_failed",
                    "session_id": self.session_id,
                    "peer_id": self.peer_id,
                },
            )
        finally:
            self.beat_task = None
            self._schedule_heartbeat()

    async def _beat(self) -> None:
        beat = await _heartbeat(attendance_id=self.attendance_id, session_id=self.session_id)
        if not beat.alive:
            # Our row was closed elsewhere: the session ended, a host removed us, or another
            # process swept us as dead (this loop stalled); the others were already told.
            if beat.fate == "ended":
                code, reason = CloseCode.NOT_LIVE, "session_ended"
                frames = [protocol.session_ended_frame()]
            elif beat.fate == "removed":
                code, reason, frames = CloseCode.NOT_ALLOWED, "removed", [protocol.removed_frame()]
            else:
                code, reason, frames = CloseCode.PEER_TIMEOUT, "timeout", []
            await self._shutdown(code, reason=reason, frames=frames, leave=False)
            return
        for gone in beat.swept:
            await self._announce_gone(gone)

    # --- Leaving -------------------------------------------------------------------------------
    async def _shutdown(
        self,
        code: int,
        *,
        reason: str,
        frames: list[dict[str, Any]] | None = None,
        leave: bool = True,
    ) -> None:
        """Close from the server side: leave the room first, so the others hear `peer-left`
        even before the socket's disconnect arrives."""
        if self.closing or self.closed:
            return
        self.closing = True
        self._stop_heartbeat()
        for frame in frames or []:
            await self._send_frame(frame)
        self.closed = True
        if leave:
            await self._leave(reason)
        await self._discard_groups()
        await self.close(code=int(code), reason=reason)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # Replaces Channels' version, which would also hop to the sync thread to close database
        # connections that this consumer never holds outside database_sync_to_async.
        self.closing = self.closed = True
        self._stop_heartbeat()
        await self._leave("closed")
        await self._discard_groups()
        raise StopConsumer()

    async def _leave(self, reason: str) -> None:
        if self.attendance_id is None:
            return
        left = await _leave(
            attendance_id=self.attendance_id,
            session_id=self.session_id,
            user_id=self.user.pk,
            peer_id=self.peer_id,
            reason=reason,
        )
        if left:
            await self._announce_gone(
                room.Gone(peer_id=self.peer_id, admitted=self.admitted), exclude=self.peer_id
            )

    async def _announce_gone(self, gone: room.Gone, *, exclude: str | None = None) -> None:
        if gone.admitted:
            await self.channel_layer.group_send(
                realtime.room_group(self.session_id),
                {
                    "type": realtime.ROOM_FRAME,
                    "text": protocol.encode(protocol.peer_left_frame(gone.peer_id)),
                    "exclude": exclude,
                    "left": gone.peer_id,
                },
            )
        else:
            await self._to_group(
                realtime.hosts_group(self.session_id), protocol.lobby_left_frame(gone.peer_id)
            )

    def _stop_heartbeat(self) -> None:
        if self.beat_timer is not None:
            self.beat_timer.cancel()
            self.beat_timer = None
        task = self.beat_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.beat_task = None

    # --- Sending -------------------------------------------------------------------------------
    async def _to_room(self, frame: dict[str, Any]) -> None:
        await self._to_group(realtime.room_group(self.session_id), frame)

    async def _to_group(self, group: str, frame: dict[str, Any]) -> None:
        """Encode once here; every receiving connection forwards the text as it is."""
        await self.channel_layer.group_send(
            group, {"type": realtime.ROOM_FRAME, "text": protocol.encode(frame)}
        )

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        await self._send_text(protocol.encode(frame))

    async def _send_text(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.send(text_data=text)
        except (OSError, RuntimeError):
            # The client went away while this frame was on its way (uvicorn raises
            # ClientDisconnected, or RuntimeError once it has seen the close); the disconnect
            # event that follows does the leaving.
            self.closed = True

    async def _group_add(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined_groups.append(group)

    async def _group_discard(self, group: str) -> None:
        if group in self.joined_groups:
            self.joined_groups.remove(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _discard_groups(self) -> None:
        for group in list(self.joined_groups):
            await self._group_discard(group)
