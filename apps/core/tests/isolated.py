"""Runs Python in a fresh interpreter with exactly the environment a test chooses.

Settings are read once, at import, from the environment; a subprocess is the honest way to see
what a settings module makes of a given environment. The project's `.env` file is not read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

from config.env import BASE_DIR

# What a process needs to run at all; nothing that configures the product.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def clean_env(**variables: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env["READ_DOT_ENV_FILE"] = "false"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(variables)
    return env


def run_python(
    code: str, *, env: dict[str, str] | None = None, args: tuple[str, ...] = (), timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=BASE_DIR,
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_manage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_json(code: str, *, env: dict[str, str] | None = None) -> Any:
    """Run `code`, which prints one JSON document as its last line of output, and return it."""
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def settings_values(module: str, names: list[str], *, env: dict[str, str] | None = None) -> Any:
    """Import settings `module` under `env` and return the named settings (JSON-friendly)."""
    code = """
        import importlib, json, sys
        settings = importlib.import_module(sys.argv[1])
        values = {name: getattr(settings, name) for name in sys.argv[2:]}
        print(json.dumps(values, default=str))
    """
    result = run_python(code, env=env, args=(module, *names))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
