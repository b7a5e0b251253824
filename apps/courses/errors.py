"""Course errors: stable codes for the failures a student or instructor can meet."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidInput, NotAllowed


class EnrollmentClosed(NotAllowed):
    code = "enrollment_closed"
    message = _("This course is not open for enrollment.")


class InvitationRequired(NotAllowed):
    code = "invitation_required"
    message = _("This course is by invitation only.")


class CourseFull(Conflict):
    code = "course_full"
    message = _("This course is full.")


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"
    message = _("You are already enrolled in this course.")


class InvalidCaptionFile(InvalidInput):
    code = "invalid_caption_file"
    message = _("That file is not a valid WebVTT caption file.")


class InvalidImport(InvalidInput):
    code = "invalid_import"
    message = _("The enrollment file could not be imported.")
