"""The Celery app takes its configuration from Django settings and runs tasks eagerly by default."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from apps.core.tests.isolated import run_json
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
