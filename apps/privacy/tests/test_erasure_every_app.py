"""An erasure of someone with data in every app: afterwards no app's export of them holds their
email address, name or IP address, and another person's data is untouched (any database; the
PostgreSQL dump test looks at the whole database)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.courses.models import CourseInvitation
from apps.privacy import services
from apps.privacy.models import ErasureRequest
from apps.privacy.tests.builders import build_person, build_world

pytestmark = pytest.mark.django_db


def test_erasure_leaves_no_email_name_or_ip_and_spares_the_others(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = build_world()
    ada = build_person(world, key="ada", display_name="Ada Quillfeather", ip_address="203.0.113.7")
    bob = build_person(world, key="bob", display_name="Bob Marrowgate", ip_address="198.51.100.9")
    bob_before = dict(services.export_files(bob.user)[:-1])  # without the manifest's timestamp
    ErasureRequest.objects.filter(pk=ada.erasure.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.process_erasures() == 1

    ada.user.refresh_from_db()
    text = "\n".join(str(content) for _, content in services.export_files(ada.user))
    for trace in (ada.email, ada.display_name, ada.ip_address):
        assert trace not in text
    assert not CourseInvitation.objects.filter(email=ada.email).exists()
    assert dict(services.export_files(bob.user)[:-1]) == bob_before
