"""Errors reach people as our pages and programs as JSON; exception text reaches neither."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.core.tests.urls import DOMAIN_ERRORS

pytestmark = pytest.mark.urls("apps.core.tests.urls")

JSON = {"Accept": "application/json"}
SECRETS = ("secret-db-password-xyz", "secret-permission-detail", "secret-parse-detail")


@pytest.fixture
def client() -> Client:
    """A browser's view: an unexpected exception becomes the 500 page, not a test failure."""
    return Client(raise_request_exception=False)


def assert_error_page(response, *, status: int, title: str, message: str) -> None:
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in body
    assert message in body
    # templates/errors/error.html, not the bare fallback or Django's default page.
    assert "Go to the home page" in body
    assert response["X-Request-ID"] in body
    for leak in (*SECRETS, "Traceback", "Error:", "apps.core"):
        assert leak not in body


@pytest.mark.parametrize(
    ("name", "status", "title"),
    [
        ("not-allowed", 403, "Access denied"),
        ("not-found", 404, "Page not found"),
        ("conflict", 409, "Conflict"),
        ("rate-limited", 429, "Too many requests"),
        ("lesson-locked", 423, "Bad request"),
    ],
)
def test_domain_error_shows_its_message_on_our_page(
    client: Client, name: str, status: int, title: str
) -> None:
    response = client.get(f"/test/domain-error/{name}")

    assert_error_page(
        response, status=status, title=title, message=str(DOMAIN_ERRORS[name].message)
    )


@pytest.mark.parametrize("name", sorted(DOMAIN_ERRORS))
def test_domain_error_is_json_for_programs(client: Client, name: str) -> None:
    error = DOMAIN_ERRORS[name]

    response = client.get(f"/test/domain-error/{name}", headers=JSON)

    assert response.status_code == error.status
    assert response.json() == {
        "error": {"code": error.code, "message": str(error.message)},
        "request_id": response["X-Request-ID"],
    }


def test_api_paths_answer_json_even_without_accept_header(client: Client) -> None:
    response = client.get("/api/no-such-endpoint")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_browser_accept_header_gets_html(client: Client) -> None:
    response = client.get(
        "/test/domain-error/not-allowed",
        HTTP_ACCEPT="text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    )

    assert response["Content-Type"].startswith("text/html")


def test_unexpected_exception_shows_the_generic_500_page(client: Client) -> None:
    response = client.get("/test/unexpected")

    assert_error_page(
        response,
        status=500,
        title="Something went wrong",
        message="Something went wrong on our side.",
    )
    assert "RuntimeError" not in response.content.decode()


def test_unexpected_exception_is_generic_json_for_programs(client: Client) -> None:
    response = client.get("/test/unexpected", headers=JSON)

    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "server_error"
    assert body["request_id"] == response["X-Request-ID"]
    assert "secret-db-password-xyz" not in response.content.decode()


def test_unknown_page_is_our_404(client: Client) -> None:
    response = client.get("/no-such-page")

    assert_error_page(
        response, status=404, title="Page not found", message="We could not find that page."
    )


def test_permission_denied_is_our_403(client: Client) -> None:
    response = client.get("/test/permission-denied")

    assert_error_page(
        response,
        status=403,
        title="Access denied",
        message="You do not have permission to see this page.",
    )


def test_bad_request_is_our_400(client: Client) -> None:
    response = client.get("/test/bad-request")

    assert_error_page(
        response,
        status=400,
        title="Bad request",
        message="The request could not be understood.",
    )


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/test/bad-request", 400, "bad_request"),
        ("/test/permission-denied", 403, "not_allowed"),
        ("/no-such-page", 404, "not_found"),
        ("/test/unexpected", 500, "server_error"),
    ],
)
def test_each_error_handler_answers_programs_with_the_one_json_shape(
    client: Client, path: str, status: int, code: str
) -> None:
    """handler400/403/404/500 all go through error_response: same body, with the request id."""
    response = client.get(path, headers=JSON)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response["X-Request-ID"]
    for leak in SECRETS:
        assert leak not in response.content.decode()


def test_disallowed_host_is_our_400(client: Client) -> None:
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()


def test_form_without_csrf_token_is_our_403() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/test/form", {"title": "Lesson 1"})

    assert_error_page(
        response,
        status=403,
        title="Access denied",
        message="Your form expired or came from another site.",
    )


def test_form_without_csrf_token_is_json_for_programs() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/test/form", {"title": "Lesson 1"}, headers=JSON)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_error_page_still_renders_when_the_site_template_cannot(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If base.html breaks (a bad tag, a failing context processor), errors still get a page."""
    from apps.core import responses

    real_render = responses.render_to_string

    def site_template_broken(template_name: str, *args, **kwargs):
        if template_name == "errors/error.html":
            raise RuntimeError("secret-template-detail")
        return real_render(template_name, *args, **kwargs)

    monkeypatch.setattr(responses, "render_to_string", site_template_broken)

    response = client.get("/test/domain-error/not-found")

    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in body
    assert str(DOMAIN_ERRORS["not-found"].message) in body
    assert "secret-template-detail" not in body


@pytest.mark.django_db
def test_htmx_is_not_handed_the_pages_nonce_and_runs_no_swapped_in_script(client) -> None:
    """A fragment swapped in by htmx must never run a script: CSP's nonce stays with the page."""
    import json
    import re

    html = client.get("/").content.decode()
    found = re.search(r"name=\"htmx-config\" content='([^']+)'", html)
    assert found is not None
    config = json.loads(found.group(1))
    assert "inlineScriptNonce" not in config
    assert config["allowScriptTags"] is False
    assert config["allowEval"] is False
