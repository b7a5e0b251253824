"""Every change to courses, lessons, captions and enrollments; one transaction each.

One module per part of the wing; the public names are re-exported here, so callers write
`from apps.courses import services; services.enroll_student(...)`.
"""

from apps.courses.services.captions import add_caption_track, delete_caption_track
from apps.courses.services.catalog import (
    UNCHANGED,
    Unchanged,
    add_instructor,
    add_tags,
    bulk_set_status,
    create_course,
    remove_tags,
    set_category,
    set_course_status,
    update_course,
)
from apps.courses.services.counters import refresh_course_counters
from apps.courses.services.enrollment import (
    accept_invitation,
    decide_enrollment,
    drop_enrollment,
    enroll_student,
    invite_by_email,
    invite_by_emails,
    mark_lesson_complete,
    mark_lesson_incomplete,
)
from apps.courses.services.imports import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportReport,
    ImportRow,
    import_enrollments_csv,
    parse_emails,
    plan_import,
)
from apps.courses.services.lessons import create_lesson, delete_lesson, move_lesson, update_lesson

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "UNCHANGED",
    "ImportReport",
    "ImportRow",
    "Unchanged",
    "accept_invitation",
    "add_caption_track",
    "add_instructor",
    "add_tags",
    "bulk_set_status",
    "create_course",
    "create_lesson",
    "decide_enrollment",
    "delete_caption_track",
    "delete_lesson",
    "drop_enrollment",
    "enroll_student",
    "import_enrollments_csv",
    "invite_by_email",
    "invite_by_emails",
    "mark_lesson_complete",
    "mark_lesson_incomplete",
    "move_lesson",
    "parse_emails",
    "plan_import",
    "refresh_course_counters",
    "remove_tags",
    "set_category",
    "set_course_status",
    "update_course",
    "update_lesson",
]
