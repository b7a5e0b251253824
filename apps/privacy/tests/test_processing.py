"""The record of processing (Art. 30): a staff page generated from the registry."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.personal_data import declarations

pytestmark = pytest.mark.django_db

URL = "/privacy/processing/"


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_url_has_a_name() -> None:
    assert reverse("privacy:processing") == URL


def test_staff_see_every_declaration_with_purpose_retention_and_export_and_erasure(
    settings,
) -> None:
    settings.RETENTION_CHAT_DAYS = 123
    settings.REPORTS_TTL_HOURS = 48

    response = _client_for(make_user(role=Role.STAFF)).get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1>") == 1
    for declaration in declarations():
        assert f'id="processing-{declaration.app_label}"' in page
        assert escape(declaration.purpose) in page
        assert f"<code>{declaration.app_label}.json</code>" in page
        for model in declaration.models:
            assert f"<code>{model}</code>" in page
    assert "chat messages: deleted after 123 days" in page
    assert "<code>RETENTION_CHAT_DAYS</code>" in page
    assert "report files: deleted after 48 hours" in page
    assert "Events kept without the IP address and user agent" in page


def test_a_group_with_the_manage_site_permission_may_see_it() -> None:
    user = make_user()
    group = Group.objects.create(name="site managers")
    group.permissions.add(Permission.objects.get(codename="manage_site"))
    user.groups.add(group)

    assert _client_for(user).get(URL).status_code == 200


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR, Role.MODERATOR])
def test_everyone_else_is_refused(role: Role) -> None:
    response = _client_for(make_user(role=role)).get(URL)

    assert response.status_code == 403
    assert "Record of processing" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/" in response["Location"]
