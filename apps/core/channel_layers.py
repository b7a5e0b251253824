"""What the project needs from a channel layer beyond Channels' own API."""

from __future__ import annotations

from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


async def release_channel(layer: Any, channel: str) -> None:
    """Let the layer forget `channel` (made by `new_channel()`) once nobody will read it again.

    The Redis pub/sub layer subscribes to a channel in `new_channel()` and unsubscribes only
    when a `receive()` on that channel is cancelled (Channels has no `delete_channel()`). A
    channel that was never read, or whose reader stopped between two messages, would otherwise
    stay subscribed for the life of the process, and whatever is sent to it would pile up in
    its queue. This takes the same steps as that layer's cancelled `receive()` (channels-redis
    4.3); the other layers keep nothing per channel that outlives its reader.
    """
    if not isinstance(layer, RedisPubSubChannelLayer):
        return
    loop_layer = layer._get_layer()  # the layer's state for the running event loop
    if loop_layer.channels.pop(channel, None) is not None:
        await loop_layer._get_shard(channel).unsubscribe(channel)
