"""The Celery app takes its configuration from Django settings and runs tasks eagerly by default."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.tests.isolated import run_json
from apps.core.tests.worker import RealCelery, real_celery_fixture  # noqa: F401
from apps.notifications.tasks import send_daily_digests
from config.celery import app


def test_celery_reads_the_celery_settings() -> None:
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_always_eager is settings.CELERY_TASK_ALWAYS_EAGER
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.accept_content == ["json"]
    assert app.conf.worker_hijack_root_logger is False


def test_config_package_exposes_the_app_for_the_worker_command() -> None:
    """`celery -A config worker` finds `config.celery_app`."""
    import config

    assert config.celery_app is app


def test_with_embedded_defaults_tasks_run_in_the_calling_process(tmp_path: Path) -> None:
    """No REDIS_URL: `.delay()` runs the task at once, so one laptop needs no worker."""
    code = """
        import json, threading, django
        django.setup()
        from config.celery import app

        @app.task(name="tests.add")
        def add(x, y):
            return {"sum": x + y, "thread": threading.get_ident()}

        result = add.delay(2, 3)
        print(json.dumps({
            "eager": app.conf.task_always_eager,
            "broker": app.conf.broker_url,
            "value": result.get(timeout=5),
            "caller": threading.get_ident(),
        }))
    """
    answer = run_json(
        code, env={"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATA_DIR": str(tmp_path)}
    )

    assert answer["eager"] is True
    assert answer["broker"] == "memory://"
    assert answer["value"]["sum"] == 5
    assert answer["value"]["thread"] == answer["caller"]


def test_a_failing_eager_task_raises_in_the_caller(tmp_path: Path) -> None:
    """Eager mode propagates errors, so a broken task fails the request or test that ran it."""
    code = """
        import json, django
        django.setup()
        from config.celery import app

        @app.task(name="tests.fail")
        def fail():
            raise ValueError("task broke")

        try:
            fail.delay()
        except ValueError as error:
            print(json.dumps({"raised": str(error)}))
        else:
            print(json.dumps({"raised": None}))
    """
    answer = run_json(
        code, env={"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATA_DIR": str(tmp_path)}
    )

    assert answer["raised"] == "task broke"


# --- A real worker ---------------------------------------------------------------------------

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="a real worker needs a broker it shares with this process: set REDIS_URL",
)
# config/logs.py, "text": time, level, logger, [request id], message.
PROJECT_LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>\S+) \[[^\]]*\] "
    r"(?P<message>.*)$"
)


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_in_the_project_format(real_celery: RealCelery) -> None:
    """Celery logs through Django's LOGGING (config/celery.py), in the main process and in the
    pool child that runs tasks, so operators read one format from web, worker and beat."""
    worker = real_celery.worker()
    with real_celery.explained():
        send_daily_digests.delay()
        worker.wait_succeeded("notifications.send_daily_digests", 1)
        lines = worker.log().splitlines()
        ready = [line for line in lines if line.endswith(" ready.")]
        finished = [line for line in lines if "send_daily_digests" in line and "succeeded" in line]

        assert ready, lines
        assert finished, lines
        ready_line = PROJECT_LOG_LINE.match(ready[0])
        finished_line = PROJECT_LOG_LINE.match(finished[0])
        assert ready_line, ready[0]
        assert ready_line["logger"] == "celery.apps.worker"
        assert ready_line["level"] == "INFO"
        assert finished_line, finished[0]
        assert finished_line["logger"] == "celery.app.trace"
        # Celery's own format ("[2025-01-01 12:00:00,000: INFO/MainProcess] ...") is nowhere.
        assert not [line for line in lines if re.match(r"^\[\d{4}-\d\d-\d\d [^\]]*: [A-Z]+/", line)]


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_json_lines_when_the_project_logs_json(
    real_celery: RealCelery,
) -> None:
    """LOG_FORMAT=json (production) makes every worker log line one JSON object."""
    worker = real_celery.worker(LOG_FORMAT="json")
    with real_celery.explained():
        records = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
        ready = [record for record in records if record["message"].endswith(" ready.")]

        assert ready, records
        assert ready[0]["logger"] == "celery.apps.worker"
        assert ready[0]["level"] == "INFO"
        assert {"time", "request_id"} <= set(ready[0])
