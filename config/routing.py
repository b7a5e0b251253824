"""WebSocket routes of every app, gathered for `config.asgi`."""

from django.urls import URLPattern, URLResolver

from apps.core.routing import websocket_urlpatterns as core_ws

websocket_urlpatterns: list[URLPattern | URLResolver] = [*core_ws]
