"""Every change to courses, lessons, captions and enrollments; one transaction each."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.activity.services import record as record_activity
from apps.core.errors import NotAllowed
from apps.core.tasks import enqueue_on_commit, stamp
from apps.courses import errors, policies, selectors, tasks
from apps.courses.models import (
    CaptionTrack,
    Category,
    Course,
    CourseInvitation,
    Enrollment,
    Lesson,
    LessonProgress,
    Tag,
)

logger = logging.getLogger(__name__)


def _new_catalog_version() -> None:
    cache.set(selectors.CATALOG_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def catalog_changed() -> None:
    """Course data changed: pages cached under the current catalog version must not be served.

    The version changes at once (a later read in this transaction, e.g. in a test, sees the
    change) and again after the commit: another request may have cached a page from the data
    as it was before the commit in between. Model signals (models.py) call this on every save
    and delete; services call it themselves after `QuerySet.update()`, which sends no signal.
    """
    _new_catalog_version()
    if connection.in_atomic_block and not any(
        entry[1] is _new_catalog_version for entry in connection.run_on_commit
    ):
        transaction.on_commit(_new_catalog_version)


def unique_slug(model: Any, base: str, *, scope: dict[str, Any] | None = None) -> str:
    base_slug = slugify(base)[:80] or "item"
    slug, n = base_slug, 2
    qs = model.objects.filter(**(scope or {}))
    while qs.filter(slug=slug).exists():
        slug = f"{base_slug}-{n}"
        n += 1
    return slug


# --- Courses --------------------------------------------------------------------------------

COURSE_FIELDS = (
    "title",
    "summary",
    "description",
    "level",
    "language",
    "category",
    "enrollment_policy",
    "capacity",
    "cover_image",
)


@transaction.atomic
def create_course(*, actor: User, title: str, tags: Iterable[Tag] = (), **fields: Any) -> Course:
    if not policies.can_create_course(actor):
        raise NotAllowed()
    unknown = set(fields) - set(COURSE_FIELDS) - {"slug"}
    if unknown:
        raise TypeError(f"unknown course fields: {sorted(unknown)}")
    course = Course(title=title, **fields)
    if not course.slug:
        course.slug = unique_slug(Course, title)
    course.full_clean()
    course.save()
    course.instructors.add(actor)
    course.tags.set(list(tags))
    logger.info("course created", extra={"course_id": course.pk, "user_id": actor.pk})
    return course


@transaction.atomic
def update_course(
    *, actor: User, course: Course, tags: Iterable[Tag] | None = None, **fields: Any
) -> Course:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    unknown = set(fields) - set(COURSE_FIELDS) - {"slug"}
    if unknown:
        raise TypeError(f"unknown course fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(course, name, value)
    course.full_clean()
    course.save()
    if tags is not None:
        course.tags.set(list(tags))
    logger.info("course updated", extra={"course_id": course.pk, "user_id": actor.pk})
    return course


@transaction.atomic
def set_course_status(*, actor: User, course: Course, status: str) -> Course:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    if status not in Course.Status.values:
        raise ValueError(status)
    course.status = status
    if status == Course.Status.PUBLISHED and course.published_at is None:
        course.published_at = timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    record_activity(actor, "courses.course.status_changed", course, status=status)
    logger.info(
        "course status changed",
        extra={"course_id": course.pk, "user_id": actor.pk, "status": status},
    )
    return course


def bulk_set_status(*, actor: User, courses: Iterable[Course], status: str) -> int:
    with transaction.atomic():
        changed = 0
        for course in courses:
            set_course_status(actor=actor, course=course, status=status)
            changed += 1
        return changed


@transaction.atomic
def add_instructor(*, actor: User, course: Course, instructor: User) -> None:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    course.instructors.add(instructor)


# --- Lessons --------------------------------------------------------------------------------


def _refresh_lesson_count(course: Course) -> None:
    count = Lesson.objects.filter(course=course, is_published=True).count()
    Course.objects.filter(pk=course.pk).update(lesson_count=count)
    course.lesson_count = count
    catalog_changed()


LESSON_FIELDS = ("title", "body", "video_file", "video_url", "is_free_preview", "is_published")


@transaction.atomic
def create_lesson(*, actor: User, course: Course, title: str, **fields: Any) -> Lesson:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    unknown = set(fields) - set(LESSON_FIELDS) - {"slug"}
    if unknown:
        raise TypeError(f"unknown lesson fields: {sorted(unknown)}")
    Course.objects.select_for_update().filter(pk=course.pk).first()
    last = Lesson.objects.filter(course=course).aggregate(m=Max("position"))["m"]
    lesson = Lesson(course=course, title=title, position=(last or 0) + 1, **fields)
    if not lesson.slug:
        lesson.slug = unique_slug(Lesson, title, scope={"course": course})
    lesson.full_clean()
    lesson.save()
    _refresh_lesson_count(course)
    if lesson.is_published:
        enqueue_on_commit(tasks.notify_lesson_published, lesson.pk, actor.pk)
    return lesson


@transaction.atomic
def update_lesson(*, actor: User, lesson: Lesson, **fields: Any) -> Lesson:
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    unknown = set(fields) - set(LESSON_FIELDS) - {"slug"}
    if unknown:
        raise TypeError(f"unknown lesson fields: {sorted(unknown)}")
    was_published = lesson.is_published
    for name, value in fields.items():
        setattr(lesson, name, value)
    lesson.full_clean()
    lesson.save()
    _refresh_lesson_count(lesson.course)
    if lesson.is_published != was_published:
        # Progress counts published lessons only, so every student's count may change.
        _recount_completion(lesson.course)
    if lesson.is_published and not was_published:
        # Told once per lesson (the task's dedupe key), however often it is republished.
        enqueue_on_commit(tasks.notify_lesson_published, lesson.pk, actor.pk)
    return lesson


@transaction.atomic
def delete_lesson(*, actor: User, lesson: Lesson) -> None:
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    course = lesson.course
    lesson.delete()
    _renumber(course)
    _refresh_lesson_count(course)
    _recount_completion(course)


def _renumber(course: Course) -> None:
    for index, lesson in enumerate(
        Lesson.objects.filter(course=course).order_by("position", "id"), 1
    ):
        if lesson.position != index:
            Lesson.objects.filter(pk=lesson.pk).update(position=index)
    catalog_changed()


@transaction.atomic
def move_lesson(*, actor: User, lesson: Lesson, direction: str) -> Lesson:
    """Move a lesson one place up or down; positions stay 1..n without gaps."""
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    if direction not in ("up", "down"):
        raise ValueError(direction)
    course = Course.objects.select_for_update().get(pk=lesson.course_id)
    ordered = list(Lesson.objects.filter(course=course).order_by("position", "id"))
    index = next(i for i, item in enumerate(ordered) if item.pk == lesson.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, 1):
        if item.position != position:
            Lesson.objects.filter(pk=item.pk).update(position=position)
            item.position = position
    lesson.position = next(item.position for item in ordered if item.pk == lesson.pk)
    catalog_changed()
    return lesson


# --- Captions -------------------------------------------------------------------------------


@transaction.atomic
def add_caption_track(
    *,
    actor: User,
    lesson: Lesson,
    language: str,
    label: str,
    kind: str,
    is_default: bool,
    file: File,
) -> CaptionTrack:
    from apps.courses.captions import validate_webvtt

    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    try:
        validate_webvtt(file)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise errors.InvalidCaptionFile(exc.messages[0]) from None
    if is_default:
        CaptionTrack.objects.filter(lesson=lesson, is_default=True).update(is_default=False)
    track = CaptionTrack.objects.filter(lesson=lesson, language=language, kind=kind).first()
    old_name = track.file.name if track else ""
    if track is None:
        track = CaptionTrack(lesson=lesson, language=language, kind=kind)
    track.label = label
    track.is_default = is_default
    storage = track.file.storage
    # The stored name is random (media.caption_path), never the upload's nor a guessable one.
    track.file.save("captions.vtt", file, save=False)
    new_name = track.file.name
    try:
        track.full_clean()
        track.save()
    except Exception:
        storage.delete(new_name)  # nothing is kept of an upload that was not stored
        raise
    if old_name and old_name != new_name:
        transaction.on_commit(lambda: storage.delete(old_name))
    return track


@transaction.atomic
def delete_caption_track(*, actor: User, track: CaptionTrack) -> None:
    if not policies.can_edit_course(actor, track.lesson.course):
        raise NotAllowed()
    name, storage = track.file.name, track.file.storage
    track.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- Enrollment -----------------------------------------------------------------------------


def _refresh_enrollment_count(course: Course) -> None:
    count = Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count()
    Course.objects.filter(pk=course.pk).update(active_enrollment_count=count)
    course.active_enrollment_count = count
    catalog_changed()


@transaction.atomic
def refresh_course_counters(*, course: Course) -> None:
    """Recount lessons, students and progress after edits that bypass the services (admin)."""
    _refresh_lesson_count(course)
    _refresh_enrollment_count(course)
    _recount_completion(course)


def _ensure_capacity(course: Course, extra: int = 1) -> None:
    if course.capacity is not None:
        active = Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count()
        if active + extra > course.capacity:
            raise errors.CourseFull()


@transaction.atomic
def enroll_student(*, course: Course, student: User) -> Enrollment:
    """Enroll (open), ask for approval (approval) or refuse (invite-only, closed, full)."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status != Course.Status.PUBLISHED:
        raise errors.EnrollmentClosed()
    existing = Enrollment.objects.filter(course=course, student=student).first()
    if existing and existing.status in (
        Enrollment.Status.ACTIVE,
        Enrollment.Status.COMPLETED,
        Enrollment.Status.PENDING,
    ):
        raise errors.AlreadyEnrolled()
    if course.enrollment_policy == Course.EnrollmentPolicy.INVITE:
        raise errors.InvitationRequired()
    status = (
        Enrollment.Status.PENDING
        if course.enrollment_policy == Course.EnrollmentPolicy.APPROVAL
        else Enrollment.Status.ACTIVE
    )
    if status == Enrollment.Status.ACTIVE:
        _ensure_capacity(course)
    enrollment = existing or Enrollment(course=course, student=student)
    enrollment.status = status
    enrollment.decided_by = None
    enrollment.save()
    _refresh_enrollment_count(course)
    record_activity(
        student,
        "courses.enrollment.requested"
        if status == Enrollment.Status.PENDING
        else "courses.enrollment.self_enrolled",
        enrollment,
        target_label=course.title,
        course=course.pk,
    )
    logger.info("enrollment %s", status, extra={"course_id": course.pk, "user_id": student.pk})
    return enrollment


@transaction.atomic
def drop_enrollment(*, enrollment: Enrollment, actor: User) -> Enrollment:
    if actor.pk != enrollment.student_id and not policies.can_edit_course(actor, enrollment.course):
        raise NotAllowed()
    enrollment.status = Enrollment.Status.DROPPED
    enrollment.save(update_fields=["status", "updated_at"])
    _refresh_enrollment_count(enrollment.course)
    record_activity(
        actor,
        "courses.enrollment.removed",
        enrollment,
        target_label=enrollment.course.title,
        course=enrollment.course_id,
        student=enrollment.student_id,
    )
    return enrollment


@transaction.atomic
def decide_enrollment(*, actor: User, enrollment: Enrollment, approve: bool) -> Enrollment:
    course = Course.objects.select_for_update().get(pk=enrollment.course_id)
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != Enrollment.Status.PENDING:
        raise errors.Conflict(_("This request has already been decided."))
    if approve:
        _ensure_capacity(course)
    enrollment.status = Enrollment.Status.ACTIVE if approve else Enrollment.Status.DROPPED
    enrollment.decided_by = actor
    enrollment.save(update_fields=["status", "decided_by", "updated_at"])
    _refresh_enrollment_count(course)
    enqueue_on_commit(
        tasks.notify_enrollment_decided, enrollment.pk, approve, stamp(enrollment.updated_at)
    )
    record_activity(
        actor,
        "courses.enrollment.approved" if approve else "courses.enrollment.declined",
        enrollment,
        target_label=course.title,
        course=course.pk,
        student=enrollment.student_id,
    )
    logger.info(
        "enrollment %s",
        "approved" if approve else "denied",
        extra={"course_id": course.pk, "user_id": enrollment.student_id, "actor_id": actor.pk},
    )
    return enrollment


def _recount_completion(course: Course) -> None:
    """Recount every student's completed (published) lessons in two queries.

    Runs after the course's `lesson_count` is fresh. Students who have now done every published
    lesson complete the course; a completion is never taken back here (only by the student).
    """
    done = (
        LessonProgress.objects.filter(enrollment=OuterRef("pk"), lesson__is_published=True)
        .order_by()
        .values("enrollment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Enrollment.objects.filter(course=course).update(
        completed_lesson_count=Coalesce(Subquery(done), 0)
    )
    if course.lesson_count:
        Enrollment.objects.filter(
            course=course,
            status=Enrollment.Status.ACTIVE,
            completed_lesson_count__gte=course.lesson_count,
        ).update(status=Enrollment.Status.COMPLETED, completed_at=timezone.now())


def _update_completion(enrollment: Enrollment) -> None:
    published = Lesson.objects.filter(course_id=enrollment.course_id, is_published=True)
    done = LessonProgress.objects.filter(enrollment=enrollment, lesson__in=published).count()
    total = published.count()
    enrollment.completed_lesson_count = done
    fields = ["completed_lesson_count", "updated_at"]
    if total and done >= total and enrollment.status == Enrollment.Status.ACTIVE:
        enrollment.status = Enrollment.Status.COMPLETED
        enrollment.completed_at = timezone.now()
        fields += ["status", "completed_at"]
    enrollment.save(update_fields=fields)


@transaction.atomic
def mark_lesson_complete(*, enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """Idempotent: completing a lesson twice keeps the first completion time."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if not enrollment.counts_as_member or lesson.course_id != enrollment.course_id:
        raise NotAllowed()
    progress, _created = LessonProgress.objects.get_or_create(
        enrollment=enrollment, lesson=lesson, defaults={"completed_at": timezone.now()}
    )
    _update_completion(enrollment)
    return progress


@transaction.atomic
def mark_lesson_incomplete(*, enrollment: Enrollment, lesson: Lesson) -> None:
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if not enrollment.counts_as_member or lesson.course_id != enrollment.course_id:
        raise NotAllowed()
    LessonProgress.objects.filter(enrollment=enrollment, lesson=lesson).delete()
    if enrollment.status == Enrollment.Status.COMPLETED:
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.completed_at = None
        enrollment.save(update_fields=["status", "completed_at", "updated_at"])
    _update_completion(enrollment)


# --- Invitations and CSV import -------------------------------------------------------------


@transaction.atomic
def invite_by_emails(
    *, actor: User, course: Course, emails: list[str], base_url: str
) -> list[CourseInvitation]:
    """Invite each address (once per course); the emails go out after commit, by a task that
    emails each invitation once (an address invited before is not emailed again).

    A fixed number of queries however many addresses: one insert for the new invitations and
    one read of them all.
    """
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    wanted = sorted({email.lower() for email in emails})
    CourseInvitation.objects.bulk_create(
        [CourseInvitation(course=course, email=email, invited_by=actor) for email in wanted],
        ignore_conflicts=True,
    )
    invitations = list(CourseInvitation.objects.filter(course=course, email__in=wanted))
    ids = [invitation.pk for invitation in invitations]
    enqueue_on_commit(tasks.send_invitations, ids, base_url)
    # Invited addresses are not kept in the log, only how many were invited.
    record_activity(actor, "courses.invitation.sent", course, count=len(ids))
    return invitations


def invite_by_email(*, actor: User, course: Course, email: str, base_url: str) -> CourseInvitation:
    return invite_by_emails(actor=actor, course=course, emails=[email], base_url=base_url)[0]


@transaction.atomic
def accept_invitation(*, invitation: CourseInvitation, user: User) -> Enrollment:
    invitation = CourseInvitation.objects.select_for_update().get(pk=invitation.pk)
    course = Course.objects.select_for_update().get(pk=invitation.course_id)
    if course.status != Course.Status.PUBLISHED:
        raise errors.EnrollmentClosed()
    enrollment = Enrollment.objects.filter(course=course, student=user).first()
    if enrollment is None or not enrollment.counts_as_member:
        _ensure_capacity(course)
        enrollment = enrollment or Enrollment(course=course, student=user)
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.save()
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    _refresh_enrollment_count(course)
    record_activity(
        user, "courses.invitation.accepted", enrollment, target_label=course.title, course=course.pk
    )
    return enrollment


@dataclass
class ImportRow:
    line: int
    email: str
    # enrolled | invited | already_enrolled | error | skipped (a good row of a refused file)
    outcome: str
    detail: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    applied: bool = False

    @property
    def errors(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == "error"]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 512 * 1024


def _parse_emails(data: bytes) -> list[tuple[int, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.InvalidImport(_("The file must be UTF-8 text (CSV).")) from None
    rows: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text))
    for line, record in enumerate(reader, 1):
        cells = [cell.strip() for cell in record if cell.strip()]
        if not cells:
            continue
        if line == 1 and cells[0].lower() in ("email", "e-mail", "email address"):
            continue  # header row
        rows.append((line, cells[0]))
    if not rows:
        raise errors.InvalidImport(_("The file contains no email addresses."))
    if len(rows) > MAX_IMPORT_ROWS:
        raise errors.InvalidImport(
            _("The file has more than %(n)d rows; split it into smaller files.")
            % {"n": MAX_IMPORT_ROWS}
        )
    return rows


def import_enrollments_csv(
    *, actor: User, course: Course, data: bytes, base_url: str
) -> ImportReport:
    """Enroll existing users and invite the rest; all rows apply or none do.

    Every row is checked first. If any row has an error (bad address, duplicate, or the course
    would exceed its capacity) nothing is written and the report says which rows and why.
    """
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    if len(data) > MAX_IMPORT_BYTES:
        raise errors.InvalidImport(_("The file is too large (at most 512 KB)."))
    parsed = _parse_emails(data)
    report = ImportReport()
    seen: set[str] = set()
    emails: list[str] = []
    for line, raw in parsed:
        email = raw.lower()
        try:
            validate_email(email)
        except ValidationError:
            report.rows.append(ImportRow(line, raw, "error", _("not a valid email address")))
            continue
        if email in seen:
            report.rows.append(ImportRow(line, raw, "error", _("listed more than once")))
            continue
        seen.add(email)
        emails.append(email)
        report.rows.append(ImportRow(line, email, "pending"))
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        users = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
        enrollments = {
            e.student_id: e
            for e in Enrollment.objects.filter(course=course, student__in=users.values())
        }
        to_enroll = []
        for row in report.rows:
            if row.outcome != "pending":
                continue
            user = users.get(row.email)
            if user is None:
                row.outcome, row.detail = "invited", _("no account yet: an invitation is emailed")
                continue
            existing = enrollments.get(user.pk)
            if existing and existing.counts_as_member:
                row.outcome, row.detail = "already_enrolled", _("already enrolled")
            else:
                row.outcome, row.detail = "enrolled", _("enrolled")
                to_enroll.append(user)
        if course.capacity is not None:
            active = Enrollment.objects.filter(
                course=course, status=Enrollment.Status.ACTIVE
            ).count()
            free = course.capacity - active
            if len(to_enroll) > free:
                overflow = to_enroll[free if free > 0 else 0 :]
                overflow_ids = {u.email.lower() for u in overflow}
                for row in report.rows:
                    if row.email in overflow_ids and row.outcome == "enrolled":
                        row.outcome, row.detail = "error", _("the course is full")
        if report.errors:
            # Nothing is written: say what each good row would have done.
            for row in report.rows:
                if row.outcome == "enrolled":
                    row.outcome, row.detail = (
                        "skipped",
                        _("would be enrolled; nothing was imported because of the errors"),
                    )
                elif row.outcome == "invited":
                    row.outcome, row.detail = (
                        "skipped",
                        _("would be invited; nothing was imported because of the errors"),
                    )
            transaction.set_rollback(True)
            return report
        # Two bulk writes for the enrollments, however many rows the file has.
        returning: list[Enrollment] = []
        new: list[Enrollment] = []
        for user in to_enroll:
            enrollment = enrollments.get(user.pk) or Enrollment(course=course, student=user)
            enrollment.status = Enrollment.Status.ACTIVE
            enrollment.decided_by = actor
            enrollment.updated_at = timezone.now()
            (returning if enrollment.pk else new).append(enrollment)
        Enrollment.objects.bulk_update(returning, ["status", "decided_by", "updated_at"])
        Enrollment.objects.bulk_create(new)
        invited = [row.email for row in report.rows if row.outcome == "invited"]
        if invited:
            invite_by_emails(actor=actor, course=course, emails=invited, base_url=base_url)
        _refresh_enrollment_count(course)
        report.applied = True
        record_activity(
            actor,
            "courses.csv_import.applied",
            course,
            enrolled=report.count("enrolled"),
            invited=report.count("invited"),
            already_enrolled=report.count("already_enrolled"),
        )
        enqueue_on_commit(
            tasks.notify_import_finished,
            course.pk,
            actor.pk,
            report.count("enrolled"),
            report.count("invited"),
            report.count("already_enrolled"),
            uuid.uuid4().hex,
        )
    logger.info(
        "enrollment import applied",
        extra={
            "course_id": course.pk,
            "user_id": actor.pk,
            "enrolled": report.count("enrolled"),
            "invited": report.count("invited"),
        },
    )
    return report


# --- Categories and tags (admin bulk actions) -----------------------------------------------


@transaction.atomic
def set_category(*, courses: Iterable[Course], category: Category | None) -> int:
    ids = [c.pk for c in courses]
    catalog_changed()
    return Course.objects.filter(pk__in=ids).update(category=category, updated_at=timezone.now())


@transaction.atomic
def add_tags(*, courses: Iterable[Course], tags: Iterable[Tag]) -> None:
    tag_list = list(tags)
    for course in courses:
        course.tags.add(*tag_list)


@transaction.atomic
def remove_tags(*, courses: Iterable[Course], tags: Iterable[Tag]) -> None:
    tag_list = list(tags)
    for course in courses:
        course.tags.remove(*tag_list)
