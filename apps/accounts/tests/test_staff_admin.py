"""The staff role opens the Django admin without superuser status: it sees every project model
and the user list (read-only), instead of the 403 a staff account without model permissions got."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.accounts.roles import Role, ensure_role_groups
from apps.accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(make_user(role=Role.STAFF))
    return client


def test_staff_open_the_admin_index_with_every_project_app(staff_client):
    page = staff_client.get(reverse("admin:index"))

    assert page.status_code == 200
    text = page.content.decode()
    for changelist in (
        "admin:accounts_user_changelist",
        "admin:courses_course_changelist",
        "admin:videoconference_videosession_changelist",
    ):
        assert reverse(changelist) in text, changelist


def test_staff_may_read_the_user_list_and_a_user_but_not_change_them(staff_client):
    other = make_user(email="someone@example.test")

    assert staff_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    change_page = staff_client.get(reverse("admin:accounts_user_change", args=[other.pk]))
    assert change_page.status_code == 200
    assert 'name="is_superuser"' not in change_page.content.decode()  # read-only
    response = staff_client.post(
        reverse("admin:accounts_user_change", args=[other.pk]),
        {"email": other.email, "is_superuser": "on", "is_staff": "on"},
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert not other.is_superuser


def test_staff_open_a_catalog_changelist(staff_client):
    assert staff_client.get(reverse("admin:courses_lesson_changelist")).status_code == 200


def test_the_staff_group_keeps_its_model_permissions_after_a_repair():
    group = Group.objects.get(name=Role.STAFF.value)
    group.permissions.clear()

    ensure_role_groups()

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"manage_site", "view_user", "view_course", "change_course"} <= codenames
    assert {"change_videosession", "view_activityevent"} <= codenames
    assert "change_user" not in codenames
    assert "delete_user" not in codenames
