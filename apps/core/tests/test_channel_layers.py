"""Releasing a channel-layer channel that nobody will read again."""

from __future__ import annotations

import asyncio
import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from redis import asyncio as aioredis

from apps.core.channel_layers import release_channel


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server in REDIS_URL")
def test_a_released_channel_is_no_longer_subscribed_in_redis() -> None:
    """What a server keeps per closed connection or readiness probe: nothing, once released."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("RedisPubSubChannelLayer")

    async def scenario() -> tuple[int, int, int]:
        layer = RedisPubSubChannelLayer(**config)
        redis = aioredis.from_url(config["hosts"][0])
        try:
            channel = await layer.new_channel()
            kept = await layer.new_channel()

            async def subscribers(name: str) -> int:
                [(_, count)] = await redis.pubsub_numsub(name)
                return int(count)

            before = await subscribers(channel)
            await release_channel(layer, channel)
            await release_channel(layer, channel)  # twice is harmless
            # Another channel of the same process still hears what is sent to it.
            await layer.send(kept, {"type": "still.here"})
            message = await asyncio.wait_for(layer.receive(kept), 5)
            assert message == {"type": "still.here"}
            return before, await subscribers(channel), await subscribers(kept)
        finally:
            await layer.flush()
            await redis.aclose()

    before, after, kept = async_to_sync(scenario)()

    assert (before, after, kept) == (1, 0, 1)


def test_releasing_a_channel_of_the_in_memory_layer_changes_nothing() -> None:
    layer = InMemoryChannelLayer()

    async def scenario() -> dict:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "hello"})
        await release_channel(layer, channel)
        return await asyncio.wait_for(layer.receive(channel), 5)

    assert async_to_sync(scenario)() == {"type": "hello"}
