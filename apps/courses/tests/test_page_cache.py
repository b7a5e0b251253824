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
from apps.courses import page_cache, services
from apps.courses.models import Course
from apps.courses.page_cache import SharedPageCache
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


def _course_queries(client: Client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [
        q["sql"] for q in queries.captured_queries if "courses_" in q["sql"]
    ]


def test_signed_in_people_share_the_catalog_blocks_around_their_own_layout():
    CourseFactory.create(title="Shared course card")
    student = make_user(display_name="Sam Student")
    client = Client()
    client.force_login(student)
    anonymous_html, _ = _get(Client(), CATALOG)  # an anonymous visit fills the cache

    html, course_queries = _course_queries(client, CATALOG)

    assert course_queries == []  # the cards came from the cache: only their own rows are read
    assert "Shared course card" in html
    assert "Sam Student" in html  # their own layout ...
    assert "Sam Student" not in anonymous_html  # ... around the shared blocks
    main = re.compile(r"<main.*?</main>", re.S)
    assert _without_per_request_values(main.findall(html)[0]) == _without_per_request_values(
        main.findall(anonymous_html)[0]
    )


def test_signed_in_visitors_get_course_pages_rendered_not_cached():
    course = CourseFactory.create()
    student = make_user()
    client = Client()
    client.force_login(student)
    _get(Client(), course.get_absolute_url())  # an anonymous visit fills the cache
    _course_queries(client, course.get_absolute_url())
    _html, course_queries = _course_queries(client, course.get_absolute_url())
    assert any("courses_course" in sql for sql in course_queries)  # read, not served cached


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
    course = CourseFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            course.title = "Renamed"
            course.save()
            during = _versions(CATALOG_SCOPE)
            course.summary = "Changed twice in one transaction"
            course.save()
            again = _versions(CATALOG_SCOPE)
        assert again != during  # at once, each time (a later read here sees the change)
    # A page another request rendered from pre-commit data carries `again`: retired now.
    after = _versions(CATALOG_SCOPE)
    assert after != again


def test_a_transaction_of_many_changes_replaces_the_versions_once_after_it_commits(
    django_capture_on_commit_callbacks,
):
    courses = CourseFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for course in courses:
            course.title += " renamed"
            course.save()
    ours = [c for c in feature_callbacks(callbacks) if c is page_cache._flush_after_commit]
    assert ours  # the flush is queued on commit, not run inside the transaction
    before = _versions(CATALOG_SCOPE)
    ours[0]()
    first = _versions(CATALOG_SCOPE)
    for callback in ours[1:]:
        callback()
    assert first != before  # the first callback replaces every pending version ...
    assert _versions(CATALOG_SCOPE) == first  # ... and the others find nothing left to do


# --- What each kind of change retires, and what it leaves alone ---------------------------------

CATALOG_SCOPE = (page_cache.CATALOG,)


def _versions(scopes: tuple[str, ...]) -> dict[str, str]:
    return page_cache.versions(scopes)[0]


def _retired(change: Any, *, watched: dict[str, str]) -> set[str]:
    """The names of the `watched` scopes whose version `change()` replaced."""
    before = _versions(tuple(watched.values()))
    change()
    after = _versions(tuple(watched.values()))
    return {name for name, scope in watched.items() if before[scope] != after[scope]}


@pytest.fixture
def two_courses() -> dict[str, Any]:
    course = CourseFactory.create(slug="one")
    other = CourseFactory.create(slug="two")
    lesson = LessonFactory.create(course=course, is_published=False)
    watched = {
        "catalog": page_cache.CATALOG,
        "popularity": page_cache.POPULARITY,
        "this course": page_cache.course_scope("one"),
        "other course": page_cache.course_scope("two"),
    }
    return {"course": course, "other": other, "lesson": lesson, "watched": watched}


def test_a_course_edit_retires_the_catalog_and_so_every_course_page(two_courses):
    course = two_courses["course"]

    retired = _retired(
        lambda: services.update_course(actor=instructor_of(course), course=course, title="New"),
        watched=two_courses["watched"],
    )

    # Every page depends on the catalog scope, so the course's own pages go with it.
    assert retired == {"catalog"}


def test_publishing_a_lesson_retires_the_catalog_it_counts_in_and_its_course(two_courses):
    course, lesson = two_courses["course"], two_courses["lesson"]

    retired = _retired(
        lambda: services.update_lesson(
            actor=instructor_of(course), lesson=lesson, is_published=True
        ),
        watched=two_courses["watched"],
    )

    assert retired == {"catalog", "this course"}  # catalog cards show the lesson count


def test_reordering_lessons_retires_only_that_course(two_courses):
    course = two_courses["course"]
    LessonFactory.create(course=course)

    retired = _retired(
        lambda: services.move_lesson(
            actor=instructor_of(course), lesson=two_courses["lesson"], direction="down"
        ),
        watched=two_courses["watched"],
    )

    assert retired == {"this course"}


def test_an_enrollment_retires_its_course_and_the_popular_sort_not_the_catalog(two_courses):
    course = two_courses["course"]
    student = make_user()

    retired = _retired(
        lambda: services.enroll_student(course=course, student=student),
        watched=two_courses["watched"],
    )

    assert retired == {"popularity", "this course"}


def test_completing_a_lesson_retires_nothing(two_courses):
    course = two_courses["course"]
    lesson = LessonFactory.create(course=course, is_published=True)
    enrollment = services.enroll_student(course=course, student=make_user())

    retired = _retired(
        lambda: services.mark_lesson_complete(enrollment=enrollment, lesson=lesson),
        watched=two_courses["watched"],
    )

    assert retired == set()


def test_a_cached_catalog_survives_a_lesson_completion_and_an_enrollment():
    """From outside: the second visit after each change still runs no query at all."""
    course = CourseFactory.create()
    lesson = LessonFactory.create(course=course, is_published=True)
    client = Client()
    _get(client, CATALOG)
    enrollment = services.enroll_student(course=course, student=make_user())
    services.mark_lesson_complete(enrollment=enrollment, lesson=lesson)

    _html, queries = _get(client, CATALOG)

    assert queries == 0


def test_a_block_holding_a_per_request_value_is_not_stored(rf):
    request = rf.get(CATALOG)
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    page = SharedPageCache(request, "courses/catalog.html", scopes=CATALOG_SCOPE)
    page._store({"content": '<input name="csrfmiddlewaretoken" value="x">'}, _ok())
    assert cache.get(page.key) is None
    page._store({"content": "<p>fine</p>"}, _ok())
    assert cache.get(page.key)["blocks"] == {"content": "<p>fine</p>"}


def _ok() -> HttpResponse:
    return HttpResponse("")
