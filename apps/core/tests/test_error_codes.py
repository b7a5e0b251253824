"""Every DomainError class has a code of its own: clients match on it, so two failures must never
share one, and a subclass that forgot its code would answer with its parent's."""

from __future__ import annotations

import importlib
import importlib.util
from collections import defaultdict

import pytest
from django.apps import apps

from apps.core.errors import DomainError


def _import_every_errors_module() -> list[str]:
    """Import `<app>.errors` for each installed project app, so all its classes exist."""
    imported = []
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        name = f"{config.name}.errors"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            imported.append(name)
    return imported


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def domain_error_classes() -> list[type[DomainError]]:
    """DomainError and every subclass the project defines (classes made up by tests excluded)."""
    _import_every_errors_module()
    classes: list[type[DomainError]] = [DomainError, *_subclasses(DomainError)]
    return [cls for cls in dict.fromkeys(classes) if ".tests" not in cls.__module__]


def duplicate_codes(classes: list[type[DomainError]]) -> dict[str, list[str]]:
    by_code: dict[str, list[str]] = defaultdict(list)
    for cls in classes:
        by_code[cls.code].append(cls.__qualname__)
    return {code: names for code, names in by_code.items() if len(names) > 1}


def classes_without_own_code(classes: list[type[DomainError]]) -> list[str]:
    return [cls.__qualname__ for cls in classes if "code" not in vars(cls)]


def test_the_errors_module_of_every_app_that_has_one_is_found() -> None:
    imported = _import_every_errors_module()

    for name in (
        "apps.core.errors",
        "apps.courses.errors",
        "apps.privacy.errors",
        "apps.reports.errors",
        "apps.videoconference.errors",
    ):
        assert name in imported
    names = {cls.__qualname__ for cls in domain_error_classes()}
    assert {"NotAllowed", "JoinNotAllowed", "ReportNotAllowed", "ConsentRequired"} <= names


def test_no_two_domain_errors_share_a_code() -> None:
    assert duplicate_codes(domain_error_classes()) == {}


def test_every_domain_error_names_its_own_code() -> None:
    assert classes_without_own_code(domain_error_classes()) == []


@pytest.mark.parametrize("cls", domain_error_classes(), ids=lambda cls: cls.__qualname__)
def test_codes_are_short_machine_words(cls: type[DomainError]) -> None:
    """Codes travel as JSON values and WebSocket close reasons (at most 123 bytes)."""
    assert cls.code.isascii()
    assert cls.code.replace("_", "").isalnum()
    assert cls.code == cls.code.lower()
    assert len(cls.code) <= 40


def test_the_checks_catch_a_shared_code_and_an_inherited_one() -> None:
    """The two checks above are not vacuous: they fail for classes like these."""

    class Copycat(DomainError):
        code = "not_allowed"

    class Forgetful(Copycat):
        pass

    classes = [*domain_error_classes(), Copycat, Forgetful]

    assert "not_allowed" in duplicate_codes(classes)
    assert classes_without_own_code(classes) == [
        "test_the_checks_catch_a_shared_code_and_an_inherited_one.<locals>.Forgetful"
    ]
