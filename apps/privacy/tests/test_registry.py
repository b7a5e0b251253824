"""Every model with a relation to the user model is declared in the privacy registry."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from apps.core.personal_data import declarations, declared_models, undeclared_models


def test_every_model_relating_to_the_user_is_declared() -> None:
    missing = undeclared_models(apps.get_models(), get_user_model(), declared_models())
    assert missing == []


def test_the_check_catches_an_undeclared_model() -> None:
    declared = declared_models()
    declared.discard("videoconference.chatmessage")
    missing = undeclared_models(apps.get_models(), get_user_model(), declared)
    assert missing == ["videoconference.ChatMessage"]


def test_the_check_sees_many_to_many_and_one_to_one() -> None:
    class Fake(models.Model):  # noqa: DJ008
        people = models.ManyToManyField(get_user_model(), related_name="+")  # type: ignore[var-annotated]

        class Meta:
            app_label = "privacy"
            managed = False

    try:
        assert undeclared_models([Fake], get_user_model(), set()) == ["privacy.Fake"]
        assert undeclared_models([Fake], get_user_model(), {"privacy.fake"}) == []
    finally:
        apps.all_models["privacy"].pop("fake", None)
        apps.clear_cache()


def test_every_declared_model_exists() -> None:
    labels = {m._meta.label.lower() for m in apps.get_models()}
    assert declared_models() <= labels


@pytest.mark.django_db
def test_exporters_and_erasers_run_for_a_user_with_no_data() -> None:
    user = get_user_model().objects.create_user(email="nobody@example.com", password="x-Secret-42")
    for declaration in declarations():
        data = declaration.exporter(user)
        json.dumps(data)
        assert isinstance(data, dict)
    for declaration in declarations():
        declaration.eraser(user)
