"""WebSocket routes of every app, gathered for `config.asgi`; unknown paths close with 4404."""

from django.urls import URLPattern, URLResolver, re_path

from apps.core.consumers import NoSuchRouteConsumer
from apps.core.routing import websocket_urlpatterns as core_ws
from apps.notifications.routing import websocket_urlpatterns as notifications_ws
from apps.videoconference.routing import websocket_urlpatterns as videoconference_ws

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    *core_ws,
    *videoconference_ws,
    *notifications_ws,
    re_path(r"", NoSuchRouteConsumer.as_asgi()),
]
