"""WebSocket routes of live sessions (gathered by config.routing)."""

from django.urls import path

from apps.videoconference.consumers import SignalingConsumer

websocket_urlpatterns = [
    path("ws/videoconference/<token:token>/", SignalingConsumer.as_asgi()),
]
