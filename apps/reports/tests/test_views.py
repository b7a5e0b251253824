"""Who may ask for, see and download reports, and what the pages show while a report is made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory
from apps.reports.models import Report
from apps.reports.tests.factories import file_of, make_report, read_rows, teacher_of
from apps.videoconference.models import VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course() -> Course:
    course = CourseFactory.create(slug="knitting")
    EnrollmentFactory.create(course=course)
    return course


@pytest.fixture
def people(course: Course) -> dict[str, User | None]:
    student = make_user()
    EnrollmentFactory.create(course=course, student=student)
    return {
        "anonymous": None,
        "student": student,
        "other instructor": make_user(role=Role.INSTRUCTOR),
        "course instructor": teacher_of(course),
        "staff": make_user(role=Role.STAFF),
    }


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- Asking for a report ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),  # to the sign-in page
        ("student", 404),
        ("other instructor", 404),
        ("course instructor", 302),  # to the report's page
        ("staff", 302),
    ],
)
def test_who_may_ask_for_a_course_progress_report(
    course: Course,
    people: dict[str, User | None],
    who: str,
    status: int,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = people[who]

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(user).post(
            "/reports/request/",
            {"kind": "course_progress", "course": course.slug, "file_format": "csv"},
        )

    assert response.status_code == status
    if who in {"course instructor", "staff"}:
        report = Report.objects.get()
        assert report.requested_by == user
        assert response["Location"] == f"/reports/{report.pk}/"
        assert report.status == Report.Status.DONE
    else:
        assert not Report.objects.exists()
    if user is None:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("student", 403),  # a member who may join, but not host (as for the attendance CSV)
        ("other instructor", 403),
        ("course instructor", 302),
        ("staff", 302),
    ],
)
def test_who_may_ask_for_a_session_attendance_report(
    course: Course,
    people: dict[str, User | None],
    who: str,
    status: int,
    django_capture_on_commit_callbacks: Any,
) -> None:
    session = VideoSessionFactory.create(course=course, join_policy=VideoSession.JoinPolicy.LINK)

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(people[who]).post(
            "/reports/request/",
            {
                "kind": "session_attendance",
                "session": session.meeting_token,
                "file_format": "xlsx",
            },
        )

    assert response.status_code == status
    assert Report.objects.filter(session=session).exists() is (status == 302 and who != "anonymous")


def test_an_unknown_session_token_is_not_found(people: dict[str, User | None]) -> None:
    response = _client(people["staff"]).post(
        "/reports/request/",
        {"kind": "session_attendance", "session": "no-such-token", "file_format": "csv"},
    )

    assert response.status_code == 404


def test_a_request_without_a_format_is_refused_with_a_message(
    course: Course, people: dict[str, User | None]
) -> None:
    response = _client(people["course instructor"]).post(
        "/reports/request/", {"kind": "course_progress", "course": course.slug}
    )

    assert response.status_code == 400
    assert "Choose a report and a file format." in response.content.decode()


def test_asking_for_a_report_needs_a_post(course: Course, people: dict[str, User | None]) -> None:
    response = _client(people["course instructor"]).get("/reports/request/")

    assert response.status_code == 405


# --- Seeing and downloading a report ---------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("student", 404),
        ("other instructor", 404),
        ("course instructor", 200),  # the one who asked
        ("staff", 404),  # staff may ask for their own; others' files are the asker's alone
    ],
)
@pytest.mark.parametrize("page", ["", "status/", "download/"])
def test_only_the_person_who_asked_sees_and_downloads_a_report(
    course: Course, people: dict[str, User | None], who: str, status: int, page: str
) -> None:
    report = make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.DONE,
        content=b"name,email\r\nAda,ada@example.test\r\n",
    )

    client = _client(people[who])
    response = client.get(f"/reports/{report.pk}/{page}")

    assert response.status_code == status
    if status == 404:
        # Someone else's report gets exactly the answer a missing one gets.
        json = {"Accept": "application/json"}
        theirs = client.get(f"/reports/{report.pk}/{page}", headers=json).json()
        missing = client.get(f"/reports/{report.pk + 1000}/{page}", headers=json).json()
        assert (
            theirs["error"]
            == missing["error"]
            == {
                "code": "not_found",
                "message": "We could not find that.",
            }
        )


def test_the_download_is_the_file_as_an_attachment_that_is_never_cached(
    course: Course, people: dict[str, User | None]
) -> None:
    content = b"name,email\r\nAda,ada@example.test\r\n"
    report = make_report(
        requested_by=teacher_of(course), course=course, status=Report.Status.DONE, content=content
    )

    response = _client(people["course instructor"]).get(f"/reports/{report.pk}/download/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content  # type: ignore[attr-defined]
    stamp = report.finished_at.strftime("%Y%m%d")  # type: ignore[union-attr]
    assert response["Content-Disposition"] == (
        f'attachment; filename="knitting-progress-{stamp}.csv"'
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_session_title_never_reaches_the_download_name_unsafely(
    people: dict[str, User | None],
) -> None:
    session = VideoSessionFactory.create(title='Q&A "live"; rm -rf /\r\nX-Evil: 1')
    report = make_report(
        requested_by=session.host, session=session, status=Report.Status.DONE, file_format="xlsx"
    )

    response = _client(session.host).get(f"/reports/{report.pk}/download/")

    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="attendance-qa-live-rm-rf-x-evil-1-')
    assert disposition.endswith('.xlsx"')


def test_an_instructor_removed_from_the_course_can_no_longer_download(
    course: Course, people: dict[str, User | None]
) -> None:
    teacher = teacher_of(course)
    report = make_report(requested_by=teacher, course=course, status=Report.Status.DONE)
    course.instructors.remove(teacher)

    response = _client(teacher).get(f"/reports/{report.pk}/download/")

    assert response.status_code == 404


def test_a_report_not_ready_yet_cannot_be_downloaded(
    course: Course, people: dict[str, User | None]
) -> None:
    report = make_report(requested_by=teacher_of(course), course=course)

    response = _client(people["course instructor"]).get(f"/reports/{report.pk}/download/")

    assert response.status_code == 409
    assert "not ready yet" in response.content.decode()


# --- The report page while it is made ----------------------------------------------------------


def _running(course: Course) -> Report:
    return make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now(),
        rows_done=200,
        rows_total=500,
        progress=40,
    )


@pytest.mark.parametrize("page", ["", "status/"])
def test_a_running_report_shows_a_labelled_progress_bar_that_polls_every_second(
    course: Course, people: dict[str, User | None], page: str
) -> None:
    report = _running(course)

    html = _client(people["course instructor"]).get(f"/reports/{report.pk}/{page}").content
    text = html.decode()

    assert f'hx-get="/reports/{report.pk}/status/"' in text
    assert 'hx-trigger="every 1s"' in text
    assert '<label for="report-progress">Progress</label>' in text
    assert 'value="40" aria-valuetext="40% — 200 of 500 rows"' in text
    assert "40% — 200 of 500 rows</span>" in text
    assert "/download/" not in text
    assert "hx-swap-oob" not in text  # nothing to announce while it runs


def test_the_report_page_has_a_live_region_that_stays_put(
    course: Course, people: dict[str, User | None]
) -> None:
    report = _running(course)

    text = _client(people["course instructor"]).get(f"/reports/{report.pk}/").content.decode()

    assert '<p id="report-announcement" role="status" aria-live="polite"' in text
    assert text.count("<h1") == 1


def test_a_finished_report_stops_the_polling_announces_ready_and_offers_the_download(
    course: Course, people: dict[str, User | None]
) -> None:
    report = make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.DONE,
        rows_done=500,
        rows_total=500,
    )

    text = (
        _client(people["course instructor"]).get(f"/reports/{report.pk}/status/").content.decode()
    )

    assert "hx-trigger" not in text
    assert "hx-get" not in text
    assert '<p id="report-announcement" hx-swap-oob="innerHTML">' in text
    assert "The report is ready. You can download it now." in text
    assert f'href="/reports/{report.pk}/download/"' in text
    assert "100% — 500 of 500 rows" in text


def test_the_whole_journey_from_the_course_page_button_to_the_file(
    course: Course, people: dict[str, User | None], django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(people["course instructor"])
    edit_page = client.get(f"/teach/courses/{course.slug}/").content.decode()
    assert 'action="/reports/request/"' in edit_page
    assert 'name="kind" value="course_progress"' in edit_page
    assert '<label for="progress-report-format">File format</label>' in edit_page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/request/",
            {"kind": "course_progress", "course": course.slug, "file_format": "csv"},
            follow=True,
        )

    assert "Your report is being prepared." in response.content.decode()
    report = Report.objects.get()
    listing = client.get("/reports/").content.decode()
    assert "Progress report: " in listing
    assert f"/reports/{report.pk}/download/" in listing
    download = client.get(f"/reports/{report.pk}/download/")
    assert b"".join(download.streaming_content) == file_of(report).read_bytes()  # type: ignore[attr-defined]
    assert len(read_rows(file_of(report))) == 3  # header and two students


def test_the_session_page_offers_hosts_an_attendance_report_button(
    course: Course, people: dict[str, User | None]
) -> None:
    session = VideoSessionFactory.create(course=course)
    student = people["student"]

    host_page = _client(session.host).get(session.meeting_url).content.decode()
    student_page = _client(student).get(session.meeting_url).content.decode()

    assert 'name="kind" value="session_attendance"' in host_page
    assert f'name="session" value="{session.meeting_token}"' in host_page
    assert "Attendance report" in host_page
    assert 'target="_blank"' not in host_page.split("report-request")[1][:200]
    assert "session_attendance" not in student_page


def test_during_a_live_call_the_attendance_report_opens_in_a_new_tab(
    course: Course,
) -> None:
    session = VideoSessionFactory.create(course=course, status=VideoSession.Status.LIVE)

    page = _client(session.host).get(session.meeting_url).content.decode()

    assert 'target="_blank"' in page.split("report-request")[1][:200]
    assert "Attendance report (opens in a new tab)" in page


def test_my_reports_lists_only_mine_newest_first(
    course: Course, people: dict[str, User | None]
) -> None:
    teacher = teacher_of(course)
    older = make_report(requested_by=teacher, course=course, status=Report.Status.DONE)
    newer = make_report(requested_by=teacher, course=course, file_format="xlsx")
    Report.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))
    someone_elses = make_report(requested_by=people["staff"], course=course)  # type: ignore[arg-type]

    text = _client(teacher).get("/reports/").content.decode()

    assert text.index(f"/reports/{newer.pk}/") < text.index(f"/reports/{older.pk}/")
    assert f"/reports/{someone_elses.pk}/" not in text
    assert f"/reports/{older.pk}/download/" in text
    assert f"/reports/{newer.pk}/download/" not in text


def test_the_list_offers_no_download_for_a_report_past_its_expiry_before_the_clean_up(
    course: Course,
) -> None:
    """The hourly clean-up has not run yet; the list must agree with the download (410)."""
    teacher = teacher_of(course)
    report = make_report(
        requested_by=teacher,
        course=course,
        status=Report.Status.DONE,
        expires_at=timezone.now() - timedelta(minutes=5),
    )

    text = _client(teacher).get("/reports/").content.decode()

    assert f"/reports/{report.pk}/download/" not in text
    assert "Expired" in text
    assert _client(teacher).get(f"/reports/{report.pk}/download/").status_code == 410


def test_a_signed_out_tab_polling_the_status_reloads_instead_of_showing_the_sign_in_page(
    course: Course,
) -> None:
    report = _running(course)

    response = Client().get(f"/reports/{report.pk}/status/", headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_my_reports_needs_signing_in() -> None:
    response = Client().get("/reports/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
