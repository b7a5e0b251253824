"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and would catch a breach.

Apps are layered (core, accounts, activity, notifications, courses, videoconference, reports,
privacy: a higher one may import a lower one, never the reverse) and no two modules of one app
import each other, directly or round a longer loop. `lint-imports` checks both; these tests run it
so `make test` fails on a new upward import or cycle.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def project_contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_project_keeps_its_import_contracts() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_contracts_report_an_upward_import_and_a_cycle_inside_an_app(tmp_path: Path) -> None:
    """Given a small `apps` package where core imports courses and courses' services and tasks
    import each other, the project's own contracts (without their list of known exceptions)
    report both."""
    for app in (
        "core",
        "accounts",
        "activity",
        "notifications",
        "courses",
        "videoconference",
        "reports",
        "privacy",
    ):
        write(tmp_path / "apps" / app / "__init__.py")
        for skipped in ("tests", "migrations"):  # the contracts skip these
            write(tmp_path / "apps" / app / skipped / "__init__.py")
    write(tmp_path / "apps" / "__init__.py")
    write(tmp_path / "apps/core/helpers.py", "from apps.courses import models\n")
    write(tmp_path / "apps/courses/models.py")
    write(tmp_path / "apps/courses/services.py", "from apps.courses import tasks\n")
    write(tmp_path / "apps/courses/tasks.py", "from apps.courses import services\n")
    lines = ["[tool.importlinter]", 'root_packages = ["apps"]']
    for contract in project_contracts():
        lines.append("[[tool.importlinter.contracts]]")
        for key, value in contract.items():
            if key != "ignore_imports":
                lines.append(f"{key} = {json.dumps(value)}")
    write(tmp_path / "pyproject.toml", "\n".join(lines) + "\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 2 broken." in result.stdout
    assert "apps.core is not allowed to import apps.courses" in result.stdout
    assert "apps.core.helpers -> apps.courses.models" in result.stdout
    assert "No cycles are allowed in apps.courses." in result.stdout
    assert "- .tasks -> .services (1 import)" in result.stdout
