"""Real Celery processes for tests: `celery -A config worker` and `celery -A config beat` as
subprocesses, serving the test database and this test process's Redis databases.

Use the `real_celery` fixture: import it into the test module (the function is named
`real_celery_fixture`, so the import does not clash with the test's `real_celery` argument):

    from apps.core.tests.worker import RealCelery, real_celery_fixture  # noqa: F401

    @pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="...")
    @pytest.mark.django_db(transaction=True)
    def test_something(real_celery: RealCelery, smtp_sink: SmtpSink) -> None:
        worker = real_celery.worker(EMAIL_URL=smtp_sink.email_url)
        with real_celery.explained():
            ...  # any failure inside gets the processes' log tails attached

While the fixture is active this process queues tasks to the broker instead of running them
eagerly, so the worker runs them. A worker is its own process group (main process and pool
children): `kill()` is a SIGKILL to all of them, as when a machine dies; `stop()` is the warm
shutdown a deploy does. Every process is stopped when the test ends, passed or failed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

from apps.videoconference.tests.live import ROOT, server_env

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
WAIT_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.05
LOG_TAIL_CHARS = 6000

# Log lines the processes write (through Django's LOGGING: config/celery.py).
READY = re.compile(r"@\S+ ready\.")
BEAT_STARTED = re.compile(r"beat: Starting\.\.\.")
# An ERROR or CRITICAL line in the project's text or JSON format, or in Celery's own.
FAILURE_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \S+ (ERROR|CRITICAL) "
    r'|"level": "(ERROR|CRITICAL)"'
    r"|^\[[^\]]*: (ERROR|CRITICAL)/"
)
SENDING_DUE_TASK = re.compile(r"Scheduler: Sending due task (?P<entry>\S+) \((?P<task>[^)]+)\)")

T = TypeVar("T")


def celery_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a worker or beat: `server_env` (test database; REDIS_URL,
    PYTEST_XDIST_WORKER and TEST_BROKER_PREFIX, so test settings pick this test process's
    broker keys and channel layer), not eager, logging at INFO so readiness and task runs
    show in the log, and no email server unless the test names one (EMAIL_URL)."""
    env: dict[str, str | None] = {
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "INFO",
        "EMAIL_URL": None,
    }
    env.update(overrides)
    return server_env(**env)


class CeleryProcess:
    """One `celery -A config <command>` subprocess in its own process group, output in a file.

    It can be started again after `kill()` or `stop()`; `log()` then holds every run's output,
    and `log_since_start()` only the current run's.
    """

    kind = "celery"
    ready_pattern = READY

    def __init__(self, *, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._run_offset = 0
        self._launched_at = 0.0

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> CeleryProcess:
        """Start and wait until the process says it is ready (30 s at most)."""
        return self.launch().wait_ready()

    def launch(self) -> CeleryProcess:
        """Start without waiting (to start several at once); then `wait_ready()`."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self._run_offset = len(self._log_bytes())
        self._launched_at = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", *self.command()],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: main and pool children
            )
        return self

    def wait_ready(self) -> CeleryProcess:
        """Wait until the launched process says it is ready: 30 s from its launch at most."""
        assert self.process is not None, "launch() first"
        deadline = self._launched_at + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.ready_pattern.search(self.log_since_start()):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(POLL_SECONDS)  # a polling interval, not a wait for timing
        output = self.log_tail()
        self.kill()
        raise RuntimeError(f"{self.kind} {self.name} did not become ready; its output:\n{output}")

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the whole group: every process dies at once, acknowledging nothing."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stop(self) -> None:
        """SIGTERM (warm shutdown: finish the current task), then wait; SIGKILL if it hangs.
        Pool children left behind are killed too."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # the main process; it shuts its pool down itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self.kill()

    def _log_bytes(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def log(self) -> str:
        return self._log_bytes().decode(errors="replace")

    def log_since_start(self) -> str:
        return self._log_bytes()[self._run_offset :].decode(errors="replace")

    def log_tail(self) -> str:
        text = self.log()
        return text[-LOG_TAIL_CHARS:] if text else "(no output)"

    def count(self, pattern: str | re.Pattern[str], *, this_run: bool = False) -> int:
        """How many times `pattern` occurs in the output (of all runs, or of this one)."""
        text = self.log_since_start() if this_run else self.log()
        return len(re.findall(pattern, text))

    def _wait(self, count: Callable[[], int], at_least: int, what: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (seen := count()) < at_least:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{self.kind} {self.name}: {seen} of {at_least} {what} within {timeout} s; "
                    f"its output:\n{self.log_tail()}"
                )
            time.sleep(POLL_SECONDS)  # a polling interval, not a wait for timing
        return seen

    def assert_no_task_failures(self) -> None:
        """Nothing failed: no ERROR or CRITICAL line and no traceback in the output."""
        text = self.log()
        failures = [
            line
            for line in text.splitlines()
            if FAILURE_LINE.search(line) or line.startswith("Traceback")
        ]
        assert not failures, (
            f"{self.kind} {self.name} logged failures:\n"
            + "\n".join(failures[:20])
            + f"\n--- its output ---\n{self.log_tail()}"
        )


class WorkerProcess(CeleryProcess):
    """`celery -A config worker`: one prefork pool child, no gossip/mingle/heartbeat (nothing
    to talk to), a node name of its own so two workers of one test never clash."""

    kind = "worker"

    def __init__(self, *, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        super().__init__(name=name, env=env, log_dir=log_dir)
        self.node_name = f"{name}-{uuid.uuid4().hex[:8]}@%h"

    def command(self) -> list[str]:
        return [
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            self.node_name,
        ]

    def succeeded(self, task_name: str, *, this_run: bool = False) -> int:
        """How many runs of `task_name` this worker finished without an error."""
        return self.count(rf"Task {re.escape(task_name)}\[[^\]]+\] succeeded in", this_run=this_run)

    def wait_succeeded(
        self, task_name: str, at_least: int, *, this_run: bool = False, timeout: float = 30.0
    ) -> int:
        """Wait until this worker has finished `at_least` runs of `task_name`."""
        return self._wait(
            lambda: self.succeeded(task_name, this_run=this_run),
            at_least,
            f"successful runs of {task_name}",
            timeout,
        )


class BeatProcess(CeleryProcess):
    """`celery -A config beat` with its schedule state in `schedule_path` (a restarted beat
    given the same path carries on from it, as in production)."""

    kind = "beat"
    ready_pattern = BEAT_STARTED

    def __init__(
        self, *, name: str, env: Mapping[str, str], log_dir: Path, schedule_path: Path
    ) -> None:
        super().__init__(name=name, env=env, log_dir=log_dir)
        self.schedule_path = schedule_path

    def command(self) -> list[str]:
        return ["beat", "--schedule", str(self.schedule_path), "--loglevel", "INFO"]

    def sent(self, task_name: str | None = None, *, this_run: bool = False) -> int:
        """How many due tasks this beat has sent (of `task_name` only, when given)."""
        text = self.log_since_start() if this_run else self.log()
        return sum(
            1
            for match in SENDING_DUE_TASK.finditer(text)
            if task_name is None or match["task"] == task_name
        )

    def wait_sent(
        self,
        at_least: int,
        task_name: str | None = None,
        *,
        this_run: bool = False,
        timeout: float = 30.0,
    ) -> int:
        """Wait until this beat has sent `at_least` due tasks (of `task_name`, when given)."""
        return self._wait(
            lambda: self.sent(task_name, this_run=this_run),
            at_least,
            f"sends of {task_name or 'due tasks'}",
            timeout,
        )


class RealCelery:
    """What the `real_celery` fixture yields: starts workers and beats, waits with deadlines,
    and attaches every process's log tail to a failure."""

    def __init__(self, *, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[CeleryProcess] = []

    def _name(self, base: str) -> str:
        taken = {process.name for process in self.processes}
        if base not in taken:
            return base
        return next(f"{base}-{n}" for n in range(2, 1000) if f"{base}-{n}" not in taken)

    def worker(
        self, name: str = "worker", *, ready: bool = True, **env: str | None
    ) -> WorkerProcess:
        """A started worker; `env` adds to or (with None) removes from its environment, e.g.
        `EMAIL_URL=smtp_sink.email_url`, `CELERY_VISIBILITY_TIMEOUT="5"`. With `ready=False`
        it is only launched: start others, then `wait_ready(...)` for all."""
        process = WorkerProcess(name=self._name(name), env=celery_env(**env), log_dir=self.log_dir)
        self.processes.append(process)
        process.launch()
        if ready:
            process.wait_ready()
        return process

    def beat(
        self,
        name: str = "beat",
        *,
        schedule_path: Path | None = None,
        ready: bool = True,
        **env: str | None,
    ) -> BeatProcess:
        """A started beat, e.g. with `REMINDER_INTERVAL_SECONDS="1"`. Pass the `schedule_path`
        of an earlier beat to restart it from that beat's state."""
        name = self._name(name)
        process = BeatProcess(
            name=name,
            env=celery_env(**env),
            log_dir=self.log_dir,
            schedule_path=schedule_path or self.log_dir / f"{name}-schedule",
        )
        self.processes.append(process)
        process.launch()
        if ready:
            process.wait_ready()
        return process

    @staticmethod
    def wait_ready(*processes: CeleryProcess) -> None:
        """Wait until each launched process is ready (they start in parallel meanwhile)."""
        for process in processes:
            process.wait_ready()

    def log_tails(self) -> str:
        return "\n".join(
            f"--- output of {process.kind} {process.name} ---\n{process.log_tail()}"
            for process in self.processes
        )

    def wait_until(
        self, predicate: Callable[[], T], what: str, *, timeout: float = WAIT_TIMEOUT_SECONDS
    ) -> T:
        """Poll until `predicate()` is truthy and return it; fail with `what` and the logs."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"not within {timeout} s: {what}\n{self.log_tails()}")
            time.sleep(POLL_SECONDS)  # a polling interval, not a wait for timing

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """Any failure inside gets the log tails of every process started so far."""
        try:
            yield
        except BaseException as exc:
            exc.add_note(self.log_tails())
            raise

    def kill_all(self) -> None:
        """The test is over: nothing it waits for is left, so no warm shutdown. Beats first,
        so nothing new is queued meanwhile."""
        for process in sorted(self.processes, key=lambda p: not isinstance(p, BeatProcess)):
            process.kill()


def purge_broker() -> None:
    """Empty this test process's broker: queued tasks and tasks a killed worker left
    unacknowledged (which a later worker would otherwise restore and run)."""
    import redis

    from config.celery import app

    app.control.purge()
    prefix = app.conf.broker_transport_options.get("global_keyprefix", "")
    client = redis.Redis.from_url(app.conf.broker_url)
    try:
        client.delete(*(f"{prefix}{key}" for key in ("unacked", "unacked_index", "unacked_mutex")))
    finally:
        client.close()


def wait_for_their_database_sessions_to_end(*, timeout: float = 5.0) -> None:
    """After a SIGKILL PostgreSQL ends the dead process's session a moment later; until then
    its transaction holds locks and the test database cannot be flushed. Polls until no other
    session is busy or in a transaction (idle ones, such as the connections psycopg's pool
    keeps open in this process, block nothing), or the deadline passes: a server the test
    still runs may hold one."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND coalesce(state, '') <> 'idle'"
            )
            (others,) = cursor.fetchone()
            if others == 0:
                return
            time.sleep(POLL_SECONDS)  # a polling interval, not a wait for timing


@pytest.fixture(name="real_celery")
def real_celery_fixture(transactional_db: None, tmp_path: Path) -> Iterator[RealCelery]:
    """Real Celery processes for one test (needs REDIS_URL: the broker they share with this
    process). This process queues tasks instead of running them while the fixture is active."""
    from django.conf import settings

    from config.celery import app

    if not settings.REDIS_URL:
        raise RuntimeError("real_celery needs a Redis broker: set REDIS_URL")
    log_dir = tmp_path / "celery"
    log_dir.mkdir()
    was_eager = app.conf.task_always_eager
    purge_broker()
    app.conf.task_always_eager = False
    celery = RealCelery(log_dir=log_dir)
    try:
        yield celery
    finally:
        try:
            celery.kill_all()
            wait_for_their_database_sessions_to_end()
        finally:
            app.conf.task_always_eager = was_eager
            purge_broker()
