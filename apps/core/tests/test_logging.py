"""Every request has an id, on its response and on every log line written while serving it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from apps.core.logging import RequestIdFilter
from apps.core.tests.isolated import run_python

pytestmark = pytest.mark.urls("apps.core.tests.urls")

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


class Recorder(logging.Handler):
    """A handler like the console's: it runs the RequestIdFilter, then keeps the record."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    loggers = [logging.getLogger(name) for name in ("apps", "django.request")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.mark.parametrize("path", ["/healthz", "/no-such-page", "/test/unexpected"])
def test_every_response_has_a_request_id(path: str) -> None:
    response = Client(raise_request_exception=False).get(path)

    assert GENERATED_ID.match(response["X-Request-ID"])


def test_each_request_gets_its_own_id() -> None:
    client = Client()

    first, second = client.get("/healthz"), client.get("/healthz")

    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_well_formed_incoming_request_id_is_kept() -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="proxy-7f3a.b_91")

    assert response["X-Request-ID"] == "proxy-7f3a.b_91"


@pytest.mark.parametrize(
    "incoming", ["short", "x" * 65, "has spaces in it", "<script>alert(1)</script>", ""]
)
def test_malformed_incoming_request_id_is_replaced(incoming: str) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert GENERATED_ID.match(response["X-Request-ID"])


def test_log_records_written_during_a_request_carry_its_id(recorder: Recorder) -> None:
    response = Client().get("/test/log")

    [record] = [r for r in recorder.records if r.getMessage() == "inside the view"]
    assert record.request_id == response["X-Request-ID"]  # type: ignore[attr-defined]
    assert record.lesson_id == 7  # type: ignore[attr-defined]


def test_log_records_written_in_an_async_view_carry_its_id(recorder: Recorder) -> None:
    response = async_to_sync(AsyncClient().get)("/test/log-async")

    [record] = [r for r in recorder.records if r.getMessage() == "inside the async view"]
    assert record.request_id == response["X-Request-ID"]  # type: ignore[attr-defined]


def test_django_error_log_of_a_response_carries_the_request_id(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django logs a 5xx response after the middleware returned; the id must still be there."""

    def broken_cache() -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr("apps.core.health.check_cache", broken_cache)

    response = Client().get("/readyz")

    assert response.status_code == 503
    logged = {r.name: r for r in recorder.records}
    assert logged["django.request"].request_id == response["X-Request-ID"]  # type: ignore[attr-defined]
    assert logged["apps.core.health"].request_id == response["X-Request-ID"]  # type: ignore[attr-defined]


def test_lines_outside_a_request_say_so(recorder: Recorder) -> None:
    logging.getLogger("apps.core.tests").warning("no request here")

    [record] = recorder.records
    assert record.request_id == "-"  # type: ignore[attr-defined]


CONFIGURED_LOGGING = """
    import django
    django.setup()  # configures logging from settings.LOGGING, as every process does
    import logging
    from apps.core.logging import request_id_var

    logger = logging.getLogger("apps.courses.services")
    token = request_id_var.set("req-0123456789")
    logger.info("lesson published", extra={"lesson_id": 42})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("could not notify\\nstudents")
    request_id_var.reset(token)
    logger.warning("between requests")
"""


def test_json_log_format_writes_one_json_object_per_line() -> None:
    result = run_python(
        CONFIGURED_LOGGING,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        },
    )
    assert result.returncode == 0, result.stderr

    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]

    assert [line["message"] for line in lines] == [
        "lesson published",
        "could not notify\nstudents",
        "between requests",
    ]
    published, failed, between = lines
    assert {"time", "level", "logger", "request_id", "message"} <= published.keys()
    assert published["level"] == "INFO"
    assert published["logger"] == "apps.courses.services"
    assert published["request_id"] == "req-0123456789"
    assert published["lesson_id"] == 42
    assert failed["level"] == "ERROR"
    assert "ValueError: boom" in failed["exc_info"]
    assert between["request_id"] == "-"


def test_text_log_format_shows_the_request_id() -> None:
    result = run_python(
        CONFIGURED_LOGGING,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "INFO"},
    )
    assert result.returncode == 0, result.stderr

    first_line = result.stderr.splitlines()[0]

    assert first_line.endswith("INFO apps.courses.services [req-0123456789] lesson published")
