"""Accessibility crawl: every page a visitor or a signed-in role can reach passes axe-core
(WCAG 2.0/2.1 A and AA) in the light, dark and high-contrast themes.

Each role starts at "/" and follows same-origin links breadth-first (GET only). Pages nothing links
to but people still see (the 404 page, signup, password reset, forms showing errors) are added.
A small catalog gives the crawl course pages to find; each role's crawl must reach a known set of
views, so a broken or missing link cannot quietly shrink what is checked.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from apps.accounts.models import Profile, User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses import services as course_services
from apps.courses.models import Course
from apps.notifications import kinds
from apps.notifications import services as notification_services
from apps.notifications.tokens import make_unsubscribe_token
from apps.reports import services as report_services
from apps.reports.models import Report
from apps.reports.tests.factories import make_report
from apps.videoconference import services as session_services
from apps.videoconference.models import VideoSession
from tests.e2e.axe import AXE_RUN, AXE_SOURCE, AXE_TAGS
from tests.e2e.conftest import LiveServer, in_the_server, sign_in
from tests.e2e.course_data import Catalog, add_lessons, make_course
from tests.e2e.test_notifications import notify_in_the_server

pytestmark = pytest.mark.browser

THEMES = ("light", "dark", "contrast")
# As later features add pages, a few of each kind (one course page stands for all) keep it fast.
MAX_URLS_PER_VIEW = 2
MAX_PAGES_PER_ROLE = 60
# Views each crawl must reach from "/" by following links.
COURSE_VIEWS = {
    "courses:catalog",
    "courses:category",
    "courses:tag",
    "courses:detail",
    "courses:lesson",
}
LEARNER_VIEWS = COURSE_VIEWS | {
    "courses:my_learning",
    "accounts:profile_edit",
    "videoconference:sessions",
    "videoconference:calendar",
    "notifications:list",  # through the header's bell
    "notifications:preferences",  # from the list and the profile page
    "accounts:security",  # 2FA methods and recent sign-ins, linked from the profile page
    "activity:mine",  # "Security events", linked from the security page
    "privacy:home",  # "Privacy and your data", linked from the profile page
}
# The session page of the catalog course's live and scheduled sessions, and for hosts its form.
SESSION_VIEWS = {"videoconference:room"}
HOSTING_VIEWS = SESSION_VIEWS | {"videoconference:schedule", "videoconference:edit"}
TEACHING_VIEWS = {
    "courses:teach",
    "courses:course_create",
    "courses:course_edit",
    "courses:lesson_create",
    "courses:lesson_edit",
    "courses:roster",
    "courses:enrollment_import",
}
# Reports: the list (linked from a course's edit page) and report pages in several states.
REPORT_VIEWS = {"reports:list", "reports:detail"}
EXPECTED_VIEWS: dict[Role, set[str]] = {
    Role.STUDENT: LEARNER_VIEWS | SESSION_VIEWS,
    Role.MODERATOR: LEARNER_VIEWS,
    Role.INSTRUCTOR: LEARNER_VIEWS | TEACHING_VIEWS | HOSTING_VIEWS | REPORT_VIEWS,
    Role.STAFF: LEARNER_VIEWS | TEACHING_VIEWS | HOSTING_VIEWS | REPORT_VIEWS,
}
SKIPPED_PREFIXES = (
    "/admin/",  # Django's admin is not our UI: its markup and styles are Django's, not ours.
    settings.STATIC_URL,
    settings.MEDIA_URL,
)


@dataclass
class Finding:
    url: str
    theme: str
    rule: str
    impact: str
    help: str
    targets: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"[{self.theme}] {self.url}  {self.rule} ({self.impact}): {self.help}"]
        lines += [f"      {target}" for target in self.targets]
        return "\n".join(lines)


@dataclass
class Crawl:
    base_url: str
    pages: list[str] = field(default_factory=list)  # paths checked, in visiting order
    findings: list[Finding] = field(default_factory=list)


def _normalise(base_url: str, href: str) -> str | None:
    """The path (with query) of a same-origin link worth visiting, or None."""
    absolute = urljoin(base_url + "/", href)
    parts = urlsplit(absolute)
    base = urlsplit(base_url)
    if parts.scheme != base.scheme or parts.netloc != base.netloc:
        return None
    path = parts.path or "/"
    if path.startswith(SKIPPED_PREFIXES):
        return None
    if mimetypes.guess_type(path)[0] not in (None, "text/html"):
        return None  # a file (image, caption track, download), not a page
    if path == reverse("account_logout"):
        return None  # following it would end the session the crawl runs in
    return urlunsplit(("", "", path, parts.query, ""))


def _view_name(path: str) -> str:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return "<no view>"


def _run_axe(page: Any, crawl: Crawl, theme: str) -> None:
    path = _path_of(page.url)
    applied = page.evaluate("() => document.documentElement.dataset.theme || 'system'")
    if applied != theme:
        crawl.findings.append(
            Finding(
                path,
                theme,
                "theme-not-applied",
                "serious",
                f"server rendered data-theme={applied!r}, expected {theme!r}",
            )
        )
    # Without site.css, contrast would be judged on the browser's defaults and pass vacuously.
    if not page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()"
    ):
        crawl.findings.append(
            Finding(path, theme, "stylesheet-not-applied", "serious", "site.css is not in effect")
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    for violation in page.evaluate(AXE_RUN, AXE_TAGS):
        targets = []
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            targets.append(f"{' '.join(node['target'])} -- {summary}")
        crawl.findings.append(
            Finding(
                path, theme, violation["id"], violation["impact"] or "", violation["help"], targets
            )
        )


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))


def _load(page: Any, crawl: Crawl, path: str, theme: str) -> int | None:
    """Load `path`; the HTTP status when an HTML page arrived, else None. 5xx are findings."""
    try:
        response = page.goto(path, wait_until="load")
    except PlaywrightError as exc:
        if "Download is starting" in str(exc):
            return None
        raise
    if response is None:
        return None
    if response.status >= 500:
        crawl.findings.append(
            Finding(path, theme, "server-error", "critical", f"HTTP {response.status}")
        )
        return None
    if not (response.header_value("content-type") or "").startswith("text/html"):
        return None
    return int(response.status)


def _discover_and_check(
    page: Any, crawl: Crawl, seeds: list[str], theme: str, *, missing_page: str
) -> None:
    """Breadth-first from the seeds: check each HTML page once and queue the links it shows."""
    queue: deque[str] = deque()
    seen: set[str] = set()
    per_view: dict[str, int] = {}
    linked_from: dict[str, str] = {}

    def enqueue(path: str, source: str = "") -> None:
        if path in seen:
            return
        name = _view_name(path)
        if per_view.get(name, 0) >= MAX_URLS_PER_VIEW:
            return
        seen.add(path)
        per_view[name] = per_view.get(name, 0) + 1
        linked_from[path] = source
        queue.append(path)

    for seed in seeds:
        enqueue(seed)
    while queue and len(crawl.pages) < MAX_PAGES_PER_ROLE:
        path = queue.popleft()
        status = _load(page, crawl, path, theme)
        if status is None:
            continue
        if status == 404 and path != missing_page:
            crawl.findings.append(
                Finding(path, theme, "broken-link", "serious", f"linked from {linked_from[path]}")
            )
            continue
        final = _path_of(page.url)
        # A redirect (e.g. the login page for a signed-in user) can land on a page already checked.
        if final in crawl.pages or (final != path and _normalise(crawl.base_url, final) is None):
            continue
        seen.add(final)
        crawl.pages.append(final)
        _run_axe(page, crawl, theme)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = _normalise(crawl.base_url, href)
            if link is not None:
                enqueue(link, final)


# --- Forms shown with errors: the error summary and field errors must pass too -------------


def _submit(page: Any, button_name: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.locator("main").get_by_role("button", name=button_name, exact=True).click()


def _assert_error_summary(page: Any, what: str) -> None:
    summary = page.locator("[data-error-summary]")
    assert summary.count() == 1, f"{what}: no error summary shown"
    assert summary.is_visible(), f"{what}: the error summary is hidden"


def signup_with_errors(page: Any) -> None:
    page.goto(reverse("account_signup"))
    _submit(page, "Sign Up")
    _assert_error_summary(page, "signup with empty fields")


def login_with_errors(page: Any) -> None:
    page.goto(reverse("account_login"))
    page.locator("#id_login").fill("nobody@example.test")
    page.locator("#id_password").fill("not the password")
    _submit(page, "Sign In")
    _assert_error_summary(page, "login with a wrong password")


def profile_with_errors(page: Any) -> None:
    page.goto(reverse("accounts:profile_edit"))
    page.locator("#id_display_name").fill("")
    _submit(page, "Save profile")
    _assert_error_summary(page, "profile saved without a display name")


def course_form_with_errors(page: Any) -> None:
    page.goto(reverse("courses:course_create"))
    _submit(page, "Create course")
    _assert_error_summary(page, "a course created without a title")


def caption_upload_with_errors(lesson_edit_path: str) -> Callable[[Any], None]:
    def check(page: Any) -> None:
        page.goto(lesson_edit_path)
        form = page.locator("form", has=page.get_by_role("button", name="Upload captions"))
        form.get_by_label("WebVTT file").set_input_files(
            files=[{"name": "notes.vtt", "mimeType": "text/vtt", "buffer": b"just some notes\n"}]
        )
        _submit(page, "Upload captions")
        _assert_error_summary(page, "a caption file that is not WebVTT")

    return check


def schedule_with_errors(schedule_path: str) -> Callable[[Any], None]:
    def check(page: Any) -> None:
        page.goto(schedule_path)
        _submit(page, "Schedule session")
        _assert_error_summary(page, "a live session scheduled without a title or times")

    return check


def unsubscribe_confirmed(confirm_path: str) -> Callable[[Any], None]:
    """The page after "Unsubscribe" (a POST, so no link leads to it). Doing it again is harmless."""

    def check(page: Any) -> None:
        page.goto(confirm_path)
        _submit(page, "Unsubscribe")
        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text() == "You are unsubscribed", "unsubscribing did not confirm"

    return check


def enrollment_import_with_errors(import_path: str) -> Callable[[Any], None]:
    def check(page: Any) -> None:
        page.goto(import_path)
        page.get_by_label("CSV file of email addresses").set_input_files(
            files=[
                {"name": "students.csv", "mimeType": "text/csv", "buffer": b"email\nnot-an-email\n"}
            ]
        )
        _submit(page, "Import")
        errors = page.locator(".row-error")
        assert errors.count() == 1, "an import with a bad address: no row marked as an error"
        assert errors.is_visible(), "an import with a bad address: the error row is hidden"

    return check


# --- The crawl --------------------------------------------------------------------------------


def _crawl_all_themes(
    page: Any,
    base_url: str,
    *,
    set_theme: Callable[[str], None],
    seeds: list[str],
    error_forms: list[Callable[[Any], None]],
) -> Crawl:
    crawl = Crawl(base_url=base_url)
    missing_page = f"/no-such-page-{uuid.uuid4().hex[:12]}/"  # the 404 page, on purpose
    first, *others = THEMES
    set_theme(first)
    _discover_and_check(page, crawl, [*seeds, missing_page], first, missing_page=missing_page)
    for form in error_forms:
        form(page)
        _run_axe(page, crawl, first)
    for theme in others:
        set_theme(theme)
        for path in crawl.pages:
            if _load(page, crawl, path, theme) is not None:
                _run_axe(page, crawl, theme)
        for form in error_forms:
            form(page)
            _run_axe(page, crawl, theme)
    return crawl


def _report(who: str, crawl: Crawl) -> str:
    lines = [
        f"{len(crawl.findings)} accessibility problem(s) for {who} "
        f"({len(crawl.pages)} pages x {len(THEMES)} themes, axe tags {', '.join(AXE_TAGS)}):"
    ]
    lines += [str(finding) for finding in crawl.findings]
    lines.append("Pages crawled: " + ", ".join(crawl.pages))
    return "\n".join(lines)


def _assert_reached(who: str, crawl: Crawl, views: set[str], paths: set[str]) -> None:
    visited = {_view_name(path) for path in crawl.pages}
    missing = sorted(views - visited) + sorted(paths - set(crawl.pages))
    assert not missing, f"{who}: the crawl never reached {missing}\n" + _report(who, crawl)


def _give_role_its_courses(role: Role, user: User, catalog: Catalog) -> set[str]:
    """Enrollments and teaching for `user`; returns paths its crawl must check."""
    course, lessons = catalog.course, catalog.lessons
    if role is Role.STUDENT:
        enrollment = course_services.enroll_student(course=course, student=user)
        course_services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[0])
        # Approval needed: "My learning" and the course page show the waiting request.
        course_services.enroll_student(course=catalog.other_course, student=user)
        return {lessons[1].get_absolute_url()}  # a lesson only enrolled students see
    if role is Role.INSTRUCTOR:
        course_services.add_instructor(actor=catalog.owner, course=course, instructor=user)
        draft = make_course(instructor=user, title="Accessible slides", publish=False)
        add_lessons(draft, instructor=user, titles=["Contrast", "Alternative text"])
        return {reverse("courses:course_edit", kwargs={"slug": draft.slug})}
    return set()


def _teaching_error_forms(catalog: Catalog) -> list[Callable[[Any], None]]:
    course = catalog.course
    return [
        course_form_with_errors,
        caption_upload_with_errors(
            reverse(
                "courses:lesson_edit",
                kwargs={"slug": course.slug, "lesson_id": catalog.preview.pk},
            )
        ),
        enrollment_import_with_errors(
            reverse("courses:enrollment_import", kwargs={"slug": course.slug})
        ),
        schedule_with_errors(reverse("videoconference:schedule", kwargs={"slug": course.slug})),
    ]


def _give_catalog_live_sessions(catalog: Catalog) -> list[VideoSession]:
    """Office hours live now and a class next week in the catalog's course (members only)."""
    start = timezone.now() + timedelta(days=7)
    return [
        session_services.start_instant_session(
            host=catalog.owner,
            title="Office hours",
            course=catalog.course,
            join_policy=VideoSession.JoinPolicy.MEMBERS,
        ),
        session_services.schedule_session(
            actor=catalog.owner,
            course=catalog.course,
            title="Next week's class",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        ),
    ]


@pytest.fixture
def asgi_server(_live_server: LiveServer) -> LiveServer:
    return _live_server


def _unsubscribe_path(user: User) -> str:
    """The confirmation page an email's unsubscribe link opens (no sign-in needed)."""
    token = make_unsubscribe_token(user_id=user.pk, kind=kinds.LESSON_PUBLISHED)
    return reverse("notifications:unsubscribe", kwargs={"token": token})


def _give_notifications(server: LiveServer, user: User) -> None:
    """One read and one unread notification, so the list shows both."""
    for key, title in (("read", "Your report is ready"), ("unread", "Office hours on Friday")):
        (notification,) = notify_in_the_server(
            server,
            recipient_ids=[user.pk],
            kind=kinds.REPORT_READY if key == "read" else kinds.SESSION_SCHEDULED,
            title=title,
            body="Details are on the page it links to.",
            url="/",
            dedupe_key=f"a11y-{key}",
        )
        if key == "read":
            in_the_server(
                server, notification_services.mark_read, user=user, notification=notification
            )


def _give_reports(*, user: User, catalog: Catalog) -> list[str]:
    """A finished progress report (generated by the task), one being prepared (the page polls),
    and the download answers of an expired (410) and a failed (409) one."""
    # Fresh: the catalog's object has its instructors cached from before this user was added.
    course = Course.objects.get(pk=catalog.course.pk)
    done = report_services.request_report(
        actor=user, kind=Report.Kind.COURSE_PROGRESS, file_format=Report.Format.CSV, course=course
    )
    running = make_report(
        requested_by=user,
        course=course,
        status=Report.Status.RUNNING,
        progress=40,
        rows_done=2,
        rows_total=5,
        file_format=Report.Format.XLSX,
    )
    expired = make_report(requested_by=user, course=course, status=Report.Status.EXPIRED)
    failed = make_report(
        requested_by=user, course=course, status=Report.Status.FAILED, error_code="failed"
    )
    return [
        reverse("reports:detail", kwargs={"pk": done.pk}),
        reverse("reports:detail", kwargs={"pk": running.pk}),
        reverse("reports:download", kwargs={"pk": expired.pk}),
        reverse("reports:download", kwargs={"pk": failed.pk}),
    ]


def _seeds() -> list[str]:
    # Start at the home page; add pages people reach from emails or by typing, not from links.
    return ["/", reverse("account_signup"), reverse("account_reset_password")]


def test_every_page_passes_axe_in_every_theme_for_anonymous_visitors(
    new_context, live_url, catalog
):
    unsubscribe = _unsubscribe_path(make_user())
    context = new_context()
    page = context.new_page()

    def set_theme(theme: str) -> None:
        # The header's theme switcher stores the choice of a signed-out visitor in this cookie.
        context.add_cookies([{"name": settings.THEME_COOKIE_NAME, "value": theme, "url": live_url}])

    crawl = _crawl_all_themes(
        page,
        live_url,
        set_theme=set_theme,
        seeds=[*_seeds(), unsubscribe],
        error_forms=[signup_with_errors, login_with_errors, unsubscribe_confirmed(unsubscribe)],
    )

    print(f"anonymous: {len(crawl.pages)} pages crawled: {crawl.pages}")  # noqa: T201
    assert len(crawl.pages) > 3, _report("anonymous visitors", crawl)
    _assert_reached(
        "anonymous visitors",
        crawl,
        COURSE_VIEWS,
        {catalog.preview.get_absolute_url(), unsubscribe},
    )
    assert not crawl.findings, _report("anonymous visitors", crawl)


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
def test_every_page_passes_axe_in_every_theme_for_each_role(
    new_context, live_url, catalog, role, asgi_server
):
    user: User = make_user(role=role)
    # In the server: these notify people, and pushing to open tabs cannot run in this thread.
    expected_paths = in_the_server(
        asgi_server, _give_role_its_courses, role=role, user=user, catalog=catalog
    )
    in_the_server(asgi_server, _give_catalog_live_sessions, catalog=catalog)
    _give_notifications(asgi_server, user)
    unsubscribe = _unsubscribe_path(user)
    expected_paths.add(unsubscribe)
    error_forms: list[Callable[[Any], None]] = [
        profile_with_errors,
        unsubscribe_confirmed(unsubscribe),
    ]
    report_pages: list[str] = []
    if role in (Role.INSTRUCTOR, Role.STAFF):
        error_forms += _teaching_error_forms(catalog)
        report_pages = in_the_server(asgi_server, _give_reports, user=user, catalog=catalog)
        expected_paths.update(report_pages)
    context = new_context()
    sign_in(context, user, live_url)
    page = context.new_page()

    def set_theme(theme: str) -> None:
        # Signed in, the theme comes from the profile (the switcher saves it there).
        Profile.objects.filter(user=user).update(theme=theme)

    crawl = _crawl_all_themes(
        page,
        live_url,
        set_theme=set_theme,
        seeds=[
            *_seeds(),
            reverse("accounts:profile_edit"),
            reverse("activity:mine"),
            unsubscribe,
            *report_pages,
        ],
        error_forms=error_forms,
    )

    print(f"{role.value}: {len(crawl.pages)} pages crawled: {crawl.pages}")  # noqa: T201
    assert reverse("accounts:profile_edit") in crawl.pages, _report(role.value, crawl)
    assert len(crawl.pages) > 4, _report(role.value, crawl)
    _assert_reached(role.value, crawl, EXPECTED_VIEWS[role], expected_paths)
    assert not crawl.findings, _report(role.value, crawl)
