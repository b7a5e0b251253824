"""The authorization matrix (OWASP ASVS V8): every URL pattern and WebSocket route of the site,
who may use it, and the one world of data the test asks about.

`ROWS` holds one row per route or per family of routes (a glob over the route's name, or over
its path when it has no name); the first row that matches a route is its row. A route with no
row, or a row that is the first match of no route, fails the coverage test. Each row gives the
answer every role must get, the route's parameters in the world, and for routes with an object
parameter another object (another course's, another person's) that the role must be refused.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin import site as admin_site
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.private_media import file_version
from apps.courses import media
from apps.courses import services as course_services
from apps.courses.models import CaptionTrack, Course, CourseInvitation, Enrollment, Lesson
from apps.courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    TagFactory,
    vtt_upload,
)
from apps.notifications import kinds
from apps.notifications.models import Notification
from apps.notifications.tokens import make_unsubscribe_token
from apps.reports.models import Report
from apps.reports.tests.factories import make_report
from apps.videoconference import calendar_services
from apps.videoconference.models import VideoSession
from apps.videoconference.tests.factories import live_session
from config.routing import websocket_urlpatterns

ROLES = (
    "anonymous",
    "student_a",  # enrolled in course A
    "student_out",  # enrolled in nothing
    "instructor_a",  # teaches course A
    "instructor_b",  # teaches course B only
    "moderator",
    "staff",
)

# --- Routes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "ns:name", or the pattern text for unnamed patterns ("ws:<text>" for sockets)
    name: str | None
    text: str


def _walk(patterns: list[Any], prefix: str = "", ns: str | None = None) -> Iterator[Route]:
    for entry in patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = entry.namespace
            yield from _walk(
                entry.url_patterns, text, f"{ns}:{inner}" if ns and inner else inner or ns
            )
        elif isinstance(entry, URLPattern):
            name = f"{ns}:{entry.name}" if ns and entry.name else entry.name
            yield Route(key=name or text, name=name, text=text)


def http_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def ws_routes() -> list[Route]:
    return [
        Route(key=f"ws:{route.text}", name=None, text=route.text)
        for route in _walk(websocket_urlpatterns)
    ]


# --- Expected answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Redirect:
    """302 to a page whose path starts with `to`."""

    to: str

    def __repr__(self) -> str:
        return f"302→{self.to}"


LOGIN = Redirect("/accounts/login/")  # login_required: to the sign-in page
REAUTH = Redirect("/accounts/reauthenticate/")  # allauth: confirm the password first
ADMIN_LOGIN = Redirect("/admin/login/")  # Django admin's own sign-in page
# 302 given as an int means the view itself redirected: not to a sign-in, consent or 2FA page.
GATES = ("/accounts/login/", "/admin/login/", "/privacy/consent/", "/account/security/")
Expect = int | Redirect | tuple[int, ...]


def by_role(default: Expect, **roles: Expect) -> dict[str, Expect]:
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {role: roles.get(role, default) for role in ROLES}


def signed_in(default: Expect, *, anonymous: Expect = LOGIN, **roles: Expect) -> dict[str, Expect]:
    return by_role(default, anonymous=anonymous, **roles)


def everyone(status: Expect) -> dict[str, Expect]:
    return by_role(status)


def only(
    allowed: Expect, roles: tuple[str, ...], *, refused: Expect, anonymous: Expect = LOGIN
) -> dict[str, Expect]:
    return by_role(refused, anonymous=anonymous, **dict.fromkeys(roles, allowed))


TEACHERS = ("instructor_a", "instructor_b", "staff")
EDITORS_A = ("instructor_a", "staff")  # may edit course A
MEMBERS_A = ("student_a", "instructor_a", "staff")  # may open course A's members-only things


def matches(expect: Expect, status: int, location: str) -> bool:
    if isinstance(expect, Redirect):
        return status == 302 and location.startswith(expect.to)
    if isinstance(expect, tuple):
        return status in expect and not (status == 302 and location.startswith(GATES))
    if status == 302 == expect:
        return not location.startswith(GATES)
    return status == expect


def refused(role: str, status: int, location: str, statuses: tuple[int, ...] = (403, 404)) -> bool:
    """The answer to an object the role may not have: 403/404 (401 or sign-in for visitors)."""
    if status in statuses:
        return True
    return role == "anonymous" and (status == 401 or matches(LOGIN, status, location))


# --- The world -----------------------------------------------------------------------------------

WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


@dataclass
class World:
    users: dict[str, User]
    other_student: User  # enrolled in A too: someone else's things
    inactive: User
    course_a: Course
    course_b: Course
    lesson_a: Lesson  # members-only, with a video and a caption track
    lesson_b: Lesson
    track_a: CaptionTrack
    track_b: CaptionTrack
    enrollment_a: Enrollment  # student_a's
    enrollment_b: Enrollment  # other_student's, in B
    session_a: VideoSession  # live, members only
    session_b: VideoSession
    invitation_a: CourseInvitation  # to course A, for student_out
    invitation_b: CourseInvitation  # to course B, for other_student
    notification_a: Notification  # student_a's
    notification_other: Notification
    report_a: Report  # course A progress, asked for by instructor_a, done
    report_other: Report  # other_student's data export
    course_draft: Course  # instructor_b's, not published
    course_invite: Course  # instructor_b's, published, invitation only
    lesson_hidden: Lesson  # course A's, not published
    pending_b: Enrollment  # a request to join course B
    feed_token: str
    unsubscribe_token: str
    extra: dict[str, Any] = field(default_factory=dict)


def _lesson_with_media(course: Course, instructor: User) -> tuple[Lesson, CaptionTrack]:
    lesson = LessonFactory.create(course=course, is_free_preview=False)
    lesson.video_file.save("talk.webm", ContentFile(WEBM), save=True)
    track = course_services.add_caption_track(
        actor=instructor,
        lesson=lesson,
        language="en",
        label="EN",
        kind=CaptionTrack.Kind.CAPTIONS,
        is_default=True,
        file=vtt_upload(),
    )
    return lesson, track


def build_world() -> World:
    users = {
        "student_a": make_user(),
        "student_out": make_user(),
        "instructor_a": make_user(Role.INSTRUCTOR),
        "instructor_b": make_user(Role.INSTRUCTOR),
        "moderator": make_user(Role.MODERATOR),
        "staff": make_user(Role.STAFF),
    }
    other = make_user()
    category, tag = CategoryFactory.create(), TagFactory.create()
    course_a = CourseFactory.create(
        instructors=[users["instructor_a"]], category=category, tags=[tag]
    )
    course_b = CourseFactory.create(instructors=[users["instructor_b"]])
    lesson_a, track_a = _lesson_with_media(course_a, users["instructor_a"])
    LessonFactory.create(course=course_a, is_free_preview=True)
    lesson_b, track_b = _lesson_with_media(course_b, users["instructor_b"])
    enrollment_a = EnrollmentFactory.create(course=course_a, student=users["student_a"])
    EnrollmentFactory.create(course=course_a, student=other)
    enrollment_b = EnrollmentFactory.create(course=course_b, student=other)
    session_a = live_session(course=course_a, host=users["instructor_a"])
    session_b = live_session(course=course_b, host=users["instructor_b"])
    invitation_a = CourseInvitation.objects.create(
        course=course_a, email=users["student_out"].email, invited_by=users["instructor_a"]
    )
    invitation_b = CourseInvitation.objects.create(
        course=course_b, email=other.email, invited_by=users["instructor_b"]
    )

    def note(user: User) -> Notification:
        return Notification.objects.create(
            recipient=user, kind=kinds.SESSION_SCHEDULED, title="Soon", url="/learning/"
        )

    report_a = make_report(
        requested_by=users["instructor_a"], course=course_a, status=Report.Status.DONE
    )
    from allauth.usersessions.models import UserSession

    UserSession.objects.create(user=other, ip="127.0.0.1", session_key="k" * 32, user_agent="t")
    report_other = Report.objects.create(
        requested_by=other, kind=Report.Kind.DATA_EXPORT, file_format=Report.Format.CSV
    )
    return World(
        users=users,
        other_student=other,
        inactive=make_user(is_active=False),
        course_a=course_a,
        course_b=course_b,
        lesson_a=lesson_a,
        lesson_b=lesson_b,
        track_a=track_a,
        track_b=track_b,
        enrollment_a=enrollment_a,
        enrollment_b=enrollment_b,
        session_a=session_a,
        session_b=session_b,
        invitation_a=invitation_a,
        invitation_b=invitation_b,
        notification_a=note(users["student_a"]),
        notification_other=note(other),
        report_a=report_a,
        report_other=report_other,
        course_draft=CourseFactory.create(
            instructors=[users["instructor_b"]], status=Course.Status.DRAFT, published_at=None
        ),
        course_invite=CourseFactory.create(
            instructors=[users["instructor_b"]],
            enrollment_policy=Course.EnrollmentPolicy.INVITE,
        ),
        lesson_hidden=LessonFactory.create(course=course_a, is_published=False),
        pending_b=EnrollmentFactory.create(
            course=course_b, student=make_user(), status=Enrollment.Status.PENDING
        ),
        feed_token=calendar_services.get_or_create_calendar_feed(user=users["student_a"]).token,
        unsubscribe_token=make_unsubscribe_token(
            user_id=users["student_a"].pk, kind=kinds.SESSION_SCHEDULED
        ),
        extra={"category": category, "tag": tag},
    )


# --- Rows ----------------------------------------------------------------------------------------

Args = Callable[[World], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Alt:
    """The route asked about another object (or with a body naming one): every role but
    `allowed` must be refused, with 403/404 (or `refused`)."""

    args: Args
    allowed: tuple[str, ...] = ()
    data: Callable[[World], dict[str, Any]] | None = None  # a POST body
    refused: tuple[int, ...] = (403, 404)


@dataclass(frozen=True)
class Row:
    match: str  # glob over Route.key
    expect: Mapping[str, Expect]
    method: str = "get"  # "post" only for routes that accept nothing else (sent empty)
    args: Args | None = None  # reverse() kwargs, or the URL itself
    other: Args | None = None  # the same route with another course's / person's object
    other_allowed: tuple[str, ...] = ()  # roles that may have the other object too
    more: tuple[Alt, ...] = ()  # further objects the role may not have
    bugs: Mapping[str, str] = field(default_factory=dict)  # role -> reason: xfail(strict)
    admin: bool = False  # URL built from the admin registry (object ids of each model)


def _slug_a(w: World) -> dict[str, Any]:
    return {"slug": w.course_a.slug}


def _slug_b(w: World) -> dict[str, Any]:
    return {"slug": w.course_b.slug}


def _lesson_a(w: World) -> dict[str, Any]:
    return {"slug": w.course_a.slug, "lesson_id": w.lesson_a.pk}


def _lesson_b(w: World) -> dict[str, Any]:
    return {"slug": w.course_b.slug, "lesson_id": w.lesson_b.pk}


def _token_a(w: World) -> dict[str, Any]:
    return {"token": w.session_a.meeting_token}


def _token_b(w: World) -> dict[str, Any]:
    return {"token": w.session_b.meeting_token}


def _old_track(w: World) -> dict[str, Any]:
    """Track A's address with another version in it (as after its file was replaced)."""
    return {"track_id": w.track_a.pk, "version": file_version(w.track_a.file.name)[::-1]}


def _old_video(w: World) -> dict[str, Any]:
    return {"lesson_id": w.lesson_a.pk, "version": file_version(w.lesson_a.video_file.name)[::-1]}


def _report_a(w: World) -> dict[str, Any]:
    return {"pk": w.report_a.pk}


def _report_other(w: World) -> dict[str, Any]:
    return {"pk": w.report_other.pk}


def _note_a(w: World) -> dict[str, Any]:
    return {"pk": w.notification_a.pk}


def _note_other(w: World) -> dict[str, Any]:
    return {"pk": w.notification_other.pk}


def _session(token: Args, expect: dict[str, Expect], method: str = "get", **kw: Any) -> dict:
    return {"args": token, "expect": expect, "method": method, "other": _token_b, **kw}


# Who may enter session A (members only, live): its course's members and hosts.
JOIN_A = only(200, MEMBERS_A, refused=403)
HOST_A = only(200, EDITORS_A, refused=403)
SESSION_B_OK = ("instructor_b", "staff")
COURSE_B_EDITORS = ("instructor_b", "staff")

ROWS: list[Row] = [
    # --- Site-wide -------------------------------------------------------------------------------
    Row("home", everyone(200)),
    Row("favicon.ico", everyone(301), args=lambda w: "/favicon.ico"),
    Row("healthz", everyone(200)),
    Row("readyz", everyone(200)),
    Row(
        "^media/(?P<path>.*)$",
        everyone(404),  # nothing public in this world; private files never come from here
        args=lambda w: "/media/nothing.png",
        other=lambda w: f"/media/{w.track_a.file.name}",
    ),
    # --- allauth: sign-in pages for visitors, account pages for the signed-in -----------------
    Row("account_login", signed_in(302, anonymous=200)),
    Row("account_logout", signed_in(200, anonymous=302)),
    Row("account_inactive", everyone(200)),
    Row("account_signup", signed_in(302, anonymous=200)),
    Row("account_reauthenticate", signed_in(200)),
    Row("account_email", signed_in(200)),
    Row("account_email_verification_sent", everyone(200)),
    Row("account_change_password", signed_in(200)),
    Row("account_set_password", signed_in(302)),
    Row("account_reset_password", everyone(200)),
    Row("account_confirm_login_code", signed_in(302)),  # no sign-in under way
    Row(
        "account_confirm_email",
        everyone(200),  # an unknown key: the "link is invalid" page
        args=lambda w: {"key": "no-such-key"},
    ),
    Row("account_reset_password_from_key_done", everyone(200)),
    Row(
        "account_reset_password_from_key",
        everyone(200),  # a bad key: the "bad token" page
        args=lambda w: {"uidb36": "zz", "key": "no-such-key"},
    ),
    Row("account_reset_password_done", everyone(200)),
    Row("usersessions_list", signed_in(200)),
    Row("mfa_index", signed_in(200)),
    Row("mfa_authenticate", signed_in(302)),  # only during a sign-in that asks for it
    Row("mfa_reauthenticate", signed_in(200, student_a=REAUTH, student_out=REAUTH)),  # no factor
    Row("mfa_activate_totp", signed_in(302, student_a=REAUTH, student_out=REAUTH)),
    Row("mfa_deactivate_totp", signed_in(REAUTH, student_a=404, student_out=404)),
    Row("mfa_view_recovery_codes", signed_in(404)),  # none made yet
    Row("mfa_generate_recovery_codes", signed_in(REAUTH)),
    Row("mfa_download_recovery_codes", signed_in(404)),
    Row("mfa_list_webauthn", signed_in(200)),
    Row("mfa_add_webauthn", signed_in(REAUTH)),
    Row("mfa_reauthenticate_webauthn", signed_in(REAUTH)),  # no key
    Row("mfa_remove_webauthn", signed_in(REAUTH), args=lambda w: {"pk": 999_999}),
    Row("mfa_edit_webauthn", signed_in(REAUTH), args=lambda w: {"pk": 999_999}),
    Row("mfa_login_webauthn", signed_in(302)),
    # --- accounts --------------------------------------------------------------------------------
    Row("accounts:profile_edit", signed_in(200)),
    Row(
        "accounts:public_profile",
        everyone(200),
        args=lambda w: {"user_id": w.users["student_a"].pk},
        other=lambda w: {"user_id": w.inactive.pk},  # a deactivated account: staff only
        other_allowed=("staff",),
    ),
    Row("accounts:set_theme", everyone(400), method="post"),
    Row("accounts:security", signed_in(200)),
    # --- courses: catalog and learning -----------------------------------------------------------
    Row("courses:catalog", everyone(200)),
    Row("courses:category", everyone(200), args=lambda w: {"slug": w.extra["category"].slug}),
    Row("courses:tag", everyone(200), args=lambda w: {"slug": w.extra["tag"].slug}),
    Row(
        "courses:invitation",
        only(200, ("student_out",), refused=404),  # only the person invited
        args=lambda w: {"token": w.invitation_a.token},
        other=lambda w: {"token": w.invitation_b.token},
    ),
    Row(
        "courses:caption_file",
        only(200, MEMBERS_A, refused=404, anonymous=404),
        args=lambda w: media.caption_url(w.track_a),
        other=lambda w: media.caption_url(w.track_b),
        other_allowed=COURSE_B_EDITORS,
        more=(Alt(_old_track),),  # a replaced file's old address: no one
    ),
    Row(
        "courses:lesson_video",
        only(200, MEMBERS_A, refused=404, anonymous=404),
        args=lambda w: media.lesson_video_url(w.lesson_a),
        other=lambda w: media.lesson_video_url(w.lesson_b),
        other_allowed=COURSE_B_EDITORS,
        more=(Alt(_old_video),),
    ),
    Row(
        "courses:detail",
        everyone(200),  # published
        args=_slug_a,
        more=(Alt(lambda w: {"slug": w.course_draft.slug}, allowed=COURSE_B_EDITORS),),
    ),
    Row(
        "courses:enroll",
        signed_in(302, student_a=409),  # open; student_a is in already
        method="post",
        args=_slug_a,
        more=(
            Alt(lambda w: {"slug": w.course_invite.slug}),  # invitation only: no one
            Alt(lambda w: {"slug": w.course_draft.slug}),  # not published: no one
        ),
    ),
    Row("courses:drop", only(302, ("student_a",), refused=404), method="post", args=_slug_a),
    Row(
        "courses:lesson",
        only(200, MEMBERS_A, refused=404, anonymous=404),
        args=lambda w: {"slug": w.course_a.slug, "lesson_slug": w.lesson_a.slug},
        other=lambda w: {"slug": w.course_b.slug, "lesson_slug": w.lesson_b.slug},
        other_allowed=COURSE_B_EDITORS,
        more=(
            # A lesson not published yet: its course's teachers only, not its students.
            Alt(
                lambda w: {"slug": w.course_a.slug, "lesson_slug": w.lesson_hidden.slug},
                allowed=EDITORS_A,
            ),
        ),
    ),
    Row(
        "courses:lesson_complete",
        only(302, ("student_a",), refused=404),  # members only, not the teachers
        method="post",
        args=lambda w: {"slug": w.course_a.slug, "lesson_slug": w.lesson_a.slug},
        other=lambda w: {"slug": w.course_b.slug, "lesson_slug": w.lesson_b.slug},
        more=(Alt(lambda w: {"slug": w.course_a.slug, "lesson_slug": w.lesson_hidden.slug}),),
    ),
    Row("courses:my_learning", signed_in(200)),
    # --- courses: the teaching dashboard ---------------------------------------------------------
    Row("courses:teach", only(200, TEACHERS, refused=403)),
    Row("courses:course_create", only(200, TEACHERS, refused=403)),
    Row(
        "courses:course_edit",
        only(200, EDITORS_A, refused=404),
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:course_status",
        only(400, EDITORS_A, refused=404),  # allowed, then no status given
        method="post",
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:lesson_create",
        only(200, EDITORS_A, refused=404),
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:lesson_edit",
        only(200, EDITORS_A, refused=404),
        args=_lesson_a,
        # Course A's address with course B's lesson: not found for anyone.
        other=lambda w: {"slug": w.course_a.slug, "lesson_id": w.lesson_b.pk},
    ),
    Row(
        "courses:lesson_move",
        only(400, EDITORS_A, refused=404),
        method="post",
        args=_lesson_a,
        other=_lesson_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:lesson_delete",
        only(302, EDITORS_A, refused=404),
        method="post",
        args=_lesson_a,
        other=_lesson_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:caption_upload",
        only(400, EDITORS_A, refused=404),
        method="post",
        args=_lesson_a,
        other=_lesson_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:caption_delete",
        only(302, EDITORS_A, refused=404),
        method="post",
        args=lambda w: {**_lesson_a(w), "track_id": w.track_a.pk},
        # Lesson A's address with course B's caption track.
        other=lambda w: {**_lesson_a(w), "track_id": w.track_b.pk},
    ),
    Row(
        "courses:roster",
        only(200, EDITORS_A, refused=404),
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:roster_csv",
        only(200, EDITORS_A, refused=404),
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    Row(
        "courses:enrollment_decide",
        only(400, EDITORS_A, refused=404),  # allowed, then no decision given
        method="post",
        args=lambda w: {"slug": w.course_a.slug, "enrollment_id": w.enrollment_a.pk},
        # Course A's address with an enrollment in course B.
        other=lambda w: {"slug": w.course_a.slug, "enrollment_id": w.enrollment_b.pk},
        more=(
            Alt(
                lambda w: {"slug": w.course_b.slug, "enrollment_id": w.pending_b.pk},
                allowed=COURSE_B_EDITORS,
            ),
        ),
    ),
    Row(
        "courses:enrollment_import",
        only(200, EDITORS_A, refused=404),
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
    ),
    # --- live sessions ---------------------------------------------------------------------------
    Row("videoconference:sessions", signed_in(200)),
    Row(
        "videoconference:instant",
        only(302, TEACHERS, refused=403),
        method="post",
        # An instant session for a course one does not teach: the form refuses the choice.
        more=(
            Alt(
                lambda w: {},
                allowed=("instructor_b", "staff"),
                data=lambda w: {"course": w.course_b.pk, "join_policy": "members"},
                refused=(400, 403),
            ),
        ),
    ),
    Row("videoconference:calendar", signed_in(200)),
    Row(
        "videoconference:feed",
        everyone(200),  # the secret token is the key; no sign-in
        args=lambda w: {"token": w.feed_token},
    ),
    Row(
        "videoconference:schedule",
        only(200, EDITORS_A, refused=403),  # the course is published: "not allowed", not 404
        args=_slug_a,
        other=_slug_b,
        other_allowed=COURSE_B_EDITORS,
        more=(Alt(lambda w: {"slug": w.course_draft.slug}, allowed=COURSE_B_EDITORS),),
    ),
    Row("videoconference:room", **_session(_token_a, JOIN_A, other_allowed=SESSION_B_OK)),
    Row(
        "videoconference:status",
        **_session(_token_a, {**JOIN_A, "anonymous": 401}, other_allowed=SESSION_B_OK),
    ),
    Row("videoconference:edit", **_session(_token_a, HOST_A, other_allowed=SESSION_B_OK)),
    Row(
        "videoconference:start",
        **_session(
            _token_a,
            {**HOST_A, **dict.fromkeys(EDITORS_A, 302)},
            "post",
            other_allowed=SESSION_B_OK,
        ),
    ),
    Row(
        "videoconference:end",
        **_session(
            _token_a,
            {**HOST_A, **dict.fromkeys(EDITORS_A, 302)},
            "post",
            other_allowed=SESSION_B_OK,
        ),
    ),
    Row(
        "videoconference:cancel",
        **_session(
            _token_a,
            {**HOST_A, **dict.fromkeys(EDITORS_A, 400)},
            "post",
            other_allowed=SESSION_B_OK,
        ),
    ),
    Row("videoconference:attendance", **_session(_token_a, HOST_A, other_allowed=SESSION_B_OK)),
    Row("videoconference:ics", **_session(_token_a, JOIN_A, other_allowed=SESSION_B_OK)),
    # --- notifications ---------------------------------------------------------------------------
    Row("notifications:list", signed_in(200)),
    Row("notifications:mark_all_read", signed_in(302), method="post"),
    Row(
        "notifications:open",
        only(302, ("student_a",), refused=404),
        method="post",
        args=_note_a,
        other=_note_other,
    ),
    Row(
        "notifications:mark_read",
        only(302, ("student_a",), refused=404),
        method="post",
        args=_note_a,
        other=_note_other,
    ),
    Row("notifications:preferences", signed_in(200)),
    Row(
        "notifications:unsubscribe",
        everyone(200),  # the signed token is the proof
        args=lambda w: {"token": w.unsubscribe_token},
    ),
    # --- reports: only the person who asked ------------------------------------------------------
    Row("reports:list", signed_in(200)),
    Row(
        "reports:request",
        signed_in(400),  # an empty request
        method="post",
        # Reports on course B and on its session: its teachers (and staff) only.
        more=(
            Alt(
                lambda w: {},
                allowed=COURSE_B_EDITORS,
                data=lambda w: {
                    "kind": "course_progress",
                    "course": w.course_b.slug,
                    "file_format": "csv",
                },
            ),
            Alt(
                lambda w: {},
                allowed=COURSE_B_EDITORS,
                data=lambda w: {
                    "kind": "session_attendance",
                    "session": w.session_b.meeting_token,
                    "file_format": "csv",
                },
            ),
        ),
    ),
    Row(
        "reports:detail",
        only(200, ("instructor_a",), refused=404),
        args=_report_a,
        other=_report_other,
    ),
    Row(
        "reports:status",
        only(200, ("instructor_a",), refused=404),
        args=_report_a,
        other=_report_other,
    ),
    Row(
        "reports:download",
        only(200, ("instructor_a",), refused=404),
        args=_report_a,
        other=_report_other,
    ),
    # --- activity --------------------------------------------------------------------------------
    Row("activity:log", only(200, ("staff",), refused=403)),
    Row("activity:export", only(400, ("staff",), refused=403), method="post"),
    Row("activity:mine", signed_in(200)),
    # --- privacy ---------------------------------------------------------------------------------
    Row("privacy:home", signed_in(200)),
    Row("privacy:export", signed_in(302), method="post"),
    Row("privacy:erasure_request", signed_in(302), method="post"),
    Row("privacy:erasure_cancel", signed_in(302), method="post"),
    Row("privacy:consent", signed_in(302)),  # nothing left to accept: on to the next page
    Row("privacy:purpose", signed_in(302), method="post"),
    Row("privacy:terms", everyone(200)),
    Row("privacy:notice", everyone(200)),
    Row("privacy:processing", only(200, ("staff",), refused=403)),
    # --- Django admin: staff only ----------------------------------------------------------------
    Row("admin:login", by_role(403, anonymous=LOGIN, staff=302)),  # signs in through allauth
    Row("admin:logout", by_role(302, staff=405)),  # staff: POST only
    *[
        Row(match, by_role(ADMIN_LOGIN, staff=staff), admin=True)
        for match, staff in (
            ("admin:index", 200),
            ("admin:app_list", 200),
            ("admin:jsi18n", 200),
            ("admin:password_change", 200),  # the admin's own password form
            ("admin:password_change_done", 200),
            ("admin:autocomplete", 403),  # without a field to complete
            ("admin:view_on_site", 404),
            ("admin:auth_user_password_change", 403),  # changing accounts: superusers only
            # Other packages' models (groups, sites, email addresses, factors, sessions):
            # superusers only.
            ("admin:auth_*", 403),
            ("admin:sites_*", 403),
            ("admin:account_*", 403),
            ("admin:mfa_*", 403),
            ("admin:usersessions_*", 403),
            # The catalog and the legal documents are staff's to run (StaffAdmin); a document
            # someone accepted is never deleted.
            ("admin:courses_*", 200),
            ("admin:privacy_policydocument_delete", 403),
            ("admin:privacy_policydocument_*", 200),
            # Live sessions too, except adding one: they are scheduled on the site.
            ("admin:videoconference_videosession_add", 403),
            ("admin:videoconference_videosession_*", 200),
            # Every other project model: staff look (and change live sessions); adding and
            # deleting stay with superusers. A model without rows sends its object pages to
            # the admin index ("does not exist"): 302.
            ("admin:*_add", 403),
            ("admin:*_delete", 403),
            ("admin:*_changelist", 200),
            ("admin:*_change", (200, 302)),
            ("admin:*_history", (200, 302)),
            ("admin/(?P<url>.*)$", 404),  # the catch-all
            ("admin/*", 302),  # "<object id>/" redirects to the object's change page
        )
    ],
]

# --- WebSocket rows ------------------------------------------------------------------------------

ACCEPT = "accept"
WsExpect = str | int


@dataclass(frozen=True)
class WsRow:
    match: str
    expect: Mapping[str, WsExpect]
    path: Callable[[World], str]
    other: Callable[[World], str] | None = None
    other_allowed: tuple[str, ...] = ()
    unknown: Callable[[World], str] | None = None  # an object that does not exist: 4404


def ws_by_role(default: WsExpect, **roles: WsExpect) -> dict[str, WsExpect]:
    return {role: roles.get(role, default) for role in ROLES}


WS_ROWS: list[WsRow] = [
    WsRow("ws:ws/ping/", ws_by_role(ACCEPT), path=lambda w: "/ws/ping/"),
    WsRow(
        "ws:ws/videoconference/<token:token>/",
        ws_by_role(4403, anonymous=4401, **dict.fromkeys(MEMBERS_A, ACCEPT)),
        path=lambda w: f"/ws/videoconference/{w.session_a.meeting_token}/",
        other=lambda w: f"/ws/videoconference/{w.session_b.meeting_token}/",
        other_allowed=SESSION_B_OK,
        unknown=lambda w: f"/ws/videoconference/{'x' * 43}/",
    ),
    WsRow(
        "ws:ws/notifications/",
        ws_by_role(ACCEPT, anonymous=4401),
        path=lambda w: "/ws/notifications/",
    ),
    WsRow("ws:", ws_by_role(4404), path=lambda w: "/ws/no-such-route/"),
]


# --- Coverage ------------------------------------------------------------------------------------


def assign(routes: list[Route], rows: list[Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Each route's row (the first that matches), the routes without one, and stale rows."""
    found: dict[str, Any] = {}
    missing: list[str] = []
    used: set[int] = set()
    for route in routes:
        for index, row in enumerate(rows):
            if fnmatch.fnmatchcase(route.key, row.match):
                found[route.key] = row
                used.add(index)
                break
        else:
            missing.append(route.key)
    stale = [row.match for index, row in enumerate(rows) if index not in used]
    return found, missing, stale


def admin_url(route: Route, world: World) -> str:
    """A URL for an admin pattern: each model's first object (or 0) for object ids."""
    from django.urls import reverse

    name = route.name
    if name is None:  # the unnamed "<object_id>/" redirects and the catch-all
        if "<path:object_id>" in route.text:
            return "/" + route.text.replace("<path:object_id>", "1")
        return "/admin/no-such-page/"
    short = name.split(":", 1)[1]
    if short == "app_list":
        return reverse(name, kwargs={"app_label": "courses"})
    if short.endswith("_user_password_change"):  # UserAdmin names it after auth.User
        return reverse(name, kwargs={"id": world.users["student_a"].pk})
    if short == "view_on_site":
        return reverse(name, kwargs={"content_type_id": 0, "object_id": 0})
    for model in admin_site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if short.startswith(prefix):
            action = short[len(prefix) :]
            if action in ("change", "delete", "history", "password_change"):
                obj = model._default_manager.order_by("pk").first()
                key = "id" if action == "password_change" else "object_id"
                return reverse(name, kwargs={key: obj.pk if obj else 0})
            return reverse(name)
    return reverse(name)
