"""Enrollment import from a CSV of email addresses: parse the file, plan what each row would do
(a pure function, no database), then apply the plan in one transaction, all rows or none."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.activity.services import record as record_activity
from apps.core.errors import NotAllowed
from apps.core.tasks import enqueue_on_commit
from apps.courses import errors, policies, tasks
from apps.courses.models import Course, Enrollment
from apps.courses.services.counters import refresh_enrollment_count
from apps.courses.services.enrollment import invite_by_emails

logger = logging.getLogger(__name__)

MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 512 * 1024


@dataclass
class ImportRow:
    line: int
    email: str
    # enrolled | invited | already_enrolled | error | skipped (a good row of a refused file)
    outcome: str
    detail: str = ""
    user_id: int | None = None  # the account a row enrolls


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    applied: bool = False

    @property
    def errors(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == "error"]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    def emails(self, outcome: str) -> list[str]:
        return [row.email for row in self.rows if row.outcome == outcome]

    def user_ids(self, outcome: str) -> list[int]:
        return [row.user_id for row in self.rows if row.outcome == outcome and row.user_id]


def parse_emails(data: bytes) -> list[tuple[int, str]]:
    """The (line, address) of each non-empty row; a header row is skipped. Raises InvalidImport
    for a file too large, not UTF-8, empty, or with too many rows."""
    if len(data) > MAX_IMPORT_BYTES:
        raise errors.InvalidImport(_("The file is too large (at most 512 KB)."))
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


def plan_import(
    *,
    rows: Sequence[tuple[int, str]],
    accounts: Mapping[str, int],
    members: Set[int],
    free_places: int | None,
) -> ImportReport:
    """What importing `rows` would do, without touching the database.

    `accounts` maps lower-case addresses to user ids, `members` holds the ids of users who
    count as members of the course already, `free_places` is how many more students the course
    takes (None: no limit). A row with a bad or repeated address, or one the course has no
    place for, is an error; when there is any error every good row is "skipped".
    """
    report = ImportReport()
    seen: set[str] = set()
    for line, raw in rows:
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
        user_id = accounts.get(email)
        if user_id is None:
            row = ImportRow(line, email, "invited", _("no account yet: an invitation is emailed"))
        elif user_id in members:
            row = ImportRow(line, email, "already_enrolled", _("already enrolled"), user_id)
        else:
            row = ImportRow(line, email, "enrolled", _("enrolled"), user_id)
        report.rows.append(row)
    if free_places is not None:
        enrolling = [row for row in report.rows if row.outcome == "enrolled"]
        for row in enrolling[max(free_places, 0) :]:
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
    return report


def import_enrollments_csv(
    *, actor: User, course: Course, data: bytes, base_url: str
) -> ImportReport:
    """Enroll existing users and invite the rest; all rows apply or none do.

    Every row is checked first. If any row has an error (bad address, duplicate, or the course
    would exceed its capacity) nothing is written and the report says which rows and why.
    """
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    rows = parse_emails(data)
    addresses = sorted({raw.lower() for _line, raw in rows})
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        users = {u.email.lower(): u for u in User.objects.filter(email__in=addresses)}
        enrollments = {
            e.student_id: e
            for e in Enrollment.objects.filter(course=course, student__in=users.values())
        }
        free_places = None
        if course.capacity is not None:
            active = Enrollment.objects.filter(
                course=course, status=Enrollment.Status.ACTIVE
            ).count()
            free_places = course.capacity - active
        report = plan_import(
            rows=rows,
            accounts={email: user.pk for email, user in users.items()},
            members={pk for pk, e in enrollments.items() if e.counts_as_member},
            free_places=free_places,
        )
        if report.errors:
            return report
        _apply_import(
            actor=actor,
            course=course,
            report=report,
            students={user.pk: user for user in users.values()},
            enrollments=enrollments,
            base_url=base_url,
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


def _apply_import(
    *,
    actor: User,
    course: Course,
    report: ImportReport,
    students: Mapping[int, User],
    enrollments: Mapping[int, Enrollment],
    base_url: str,
) -> None:
    """Write a plan without errors (inside the caller's transaction, the course row locked)."""
    # Two bulk writes for the enrollments, however many rows the file has.
    returning: list[Enrollment] = []
    new: list[Enrollment] = []
    for user_id in report.user_ids("enrolled"):
        enrollment = enrollments.get(user_id) or Enrollment(
            course=course, student=students[user_id]
        )
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.decided_by = actor
        enrollment.updated_at = timezone.now()
        (returning if enrollment.pk else new).append(enrollment)
    Enrollment.objects.bulk_update(returning, ["status", "decided_by", "updated_at"])
    Enrollment.objects.bulk_create(new)
    invited = report.emails("invited")
    if invited:
        invite_by_emails(actor=actor, course=course, emails=invited, base_url=base_url)
    refresh_enrollment_count(course)
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
