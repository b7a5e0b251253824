"""Makes the demo lesson's short video at seed time (no binary in the repository)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import av
from PIL import Image, ImageDraw

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 24, 6

CAPTIONS_EN = """WEBVTT

00:00:00.000 --> 00:00:02.000
Welcome to onlineteacher!

00:00:02.000 --> 00:00:04.000
[soft chime] This demo video has captions.

00:00:04.000 --> 00:00:06.000
Mark the lesson complete when you are done.
"""


def make_demo_video() -> bytes:
    """Return a few seconds of WebM (VP8): a moving square and a second counter."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.webm"
        with av.open(str(path), mode="w") as container:
            stream = container.add_stream("libvpx", rate=FPS)
            stream.width, stream.height = WIDTH, HEIGHT
            stream.pix_fmt = "yuv420p"
            stream.bit_rate = 400_000
            for index in range(FPS * SECONDS):
                image = Image.new("RGB", (WIDTH, HEIGHT), (16, 40, 96))
                draw = ImageDraw.Draw(image)
                x = int((WIDTH - 80) * index / (FPS * SECONDS))
                draw.rectangle([x, 140, x + 80, 220], fill=(250, 200, 40))
                draw.text(
                    (20, 20), f"onlineteacher demo  {index // FPS + 1}s", fill=(255, 255, 255)
                )
                frame = av.VideoFrame.from_image(image)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()


def demo_captions() -> io.BytesIO:
    return io.BytesIO(CAPTIONS_EN.encode())
