"""The anonymous page cache (apps/courses/page_cache.py): fast, never stale, never mixed up."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import make_user
from apps.core.tests.callbacks import feature_callbacks
from apps.courses import selectors, services
from apps.courses.models import Course
from apps.courses.page_cache import AnonymousPageCache
from apps.courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    instructor_of,
)

pytestmark = pytest.mark.django_db

CATALOG = "/courses/"


def _get(client: Client, url: str, **extra: Any) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode(), len(queries)


def _without_per_request_values(html: str) -> str:
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'nonce="[^"]*"', "", html)


def test_a_second_anonymous_visit_runs_no_query_and_shows_the_same_page():
    course = CourseFactory.create()
    lesson = LessonFactory.create(course=course, is_free_preview=True)
    client = Client()
    for url in (CATALOG, course.get_absolute_url(), lesson.get_absolute_url()):
        first, first_queries = _get(client, url)
        second, second_queries = _get(client, url)
        assert first_queries > 0
        assert second_queries == 0, url
        assert _without_per_request_values(second) == _without_per_request_values(first)
        assert not re.search(r"<!--/?[0-9a-f]{16}:", second)  # no block marker left


def test_the_layout_around_a_cached_page_is_still_rendered_per_request():
    CourseFactory.create()
    first = Client().get(CATALOG)
    second = Client().get(CATALOG)
    # The CSRF token in the layout is masked afresh for every response.
    tokens = [re.findall(r'"X-CSRFToken": "([^"]+)"', r.content.decode()) for r in (first, second)]
    assert tokens[0]
    assert tokens[0] != tokens[1]
    assert "csrftoken" in second.cookies


def test_publishing_and_unpublishing_show_at_once():
    course = CourseFactory.create(status=Course.Status.DRAFT, published_at=None)
    teacher = instructor_of(course)
    client = Client()
    assert course.title not in _get(client, CATALOG)[0]
    assert client.get(course.get_absolute_url()).status_code == 404

    services.set_course_status(actor=teacher, course=course, status=Course.Status.PUBLISHED)
    assert course.title in _get(client, CATALOG)[0]
    assert client.get(course.get_absolute_url()).status_code == 200

    services.set_course_status(actor=teacher, course=course, status=Course.Status.DRAFT)
    assert course.title not in _get(client, CATALOG)[0]
    assert client.get(course.get_absolute_url()).status_code == 404


def test_lesson_enrollment_and_category_changes_show_at_once():
    course = CourseFactory.create()
    lesson = LessonFactory.create(course=course, title="Before", is_free_preview=True)
    client = Client()
    assert "Before" in _get(client, course.get_absolute_url())[0]
    assert "Before" in _get(client, lesson.get_absolute_url())[0]

    services.update_lesson(actor=instructor_of(course), lesson=lesson, title="After")
    assert "After" in _get(client, course.get_absolute_url())[0]
    assert "After" in _get(client, lesson.get_absolute_url())[0]

    _get(client, CATALOG + "?sort=popular")
    other = CourseFactory.create(title="Suddenly popular")
    EnrollmentFactory.create(course=other)
    EnrollmentFactory.create(course=other)
    popular = _get(client, CATALOG + "?sort=popular")[0]
    assert popular.index("Suddenly popular") < popular.index(course.title)

    category = CategoryFactory.create(name="Brand new category")
    services.set_category(courses=[course], category=category)  # QuerySet.update(): no signal
    assert "Brand new category" in _get(client, course.get_absolute_url())[0]

    lesson.delete()  # a plain delete, as the admin does
    assert "After" not in _get(client, course.get_absolute_url())[0]


def test_signed_in_visitors_are_never_served_from_the_cache():
    course = CourseFactory.create()
    student = make_user()
    client = Client()
    client.force_login(student)
    _get(client, CATALOG)
    _get(Client(), CATALOG)  # an anonymous visit fills the cache
    _html, queries = _get(client, CATALOG)
    assert queries > 0
    _html, queries = _get(client, course.get_absolute_url())
    _html, queries_again = _get(client, course.get_absolute_url())
    assert queries_again == queries > 0


def test_the_htmx_results_are_cached_apart_from_the_whole_page():
    CourseFactory.create(title="Listed course")
    client = Client()
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "catalog-results"}
    whole, _ = _get(client, CATALOG)
    part, _ = _get(client, CATALOG, **htmx)
    part_again, queries = _get(client, CATALOG, **htmx)
    assert queries == 0
    assert part_again == part
    assert "<html" in whole
    assert "<html" not in part
    assert "Listed course" in part


def test_the_version_changes_again_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        course = CourseFactory.create()
        with transaction.atomic():
            course.title = "Renamed"
            course.save()
            during = selectors.catalog_version()
    # A page another request rendered from pre-commit data carries `during`: retired now.
    assert (
        len(feature_callbacks(callbacks)) == 1
    )  # one per transaction, however many changes it holds
    assert selectors.catalog_version() != during


def test_a_block_holding_a_per_request_value_is_not_stored(rf):
    request = rf.get(CATALOG)
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    page = AnonymousPageCache(request, "courses/catalog.html")
    page._store({"content": '<input name="csrfmiddlewaretoken" value="x">'}, _ok())
    assert cache.get(page.key) is None
    page._store({"content": "<p>fine</p>"}, _ok())
    assert cache.get(page.key)["blocks"] == {"content": "<p>fine</p>"}


def _ok() -> HttpResponse:
    return HttpResponse("")
