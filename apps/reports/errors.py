"""Report failures a person can meet, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import InvalidInput, NotAllowed


class InvalidReportRequest(InvalidInput):
    code = "invalid_report_request"
    message = _("Choose a report and a file format.")


class ReportNotAllowed(NotAllowed):
    code = "report_not_allowed"
    message = _("Only the course's instructors and staff may ask for this report.")


# Why a report failed, as stored in Report.error_code, and what its page says about it. The
# messages never carry exception text.
FAILURE_MESSAGES = {
    "timed_out": _("Preparing the report took too long. Please try again later."),
    "generation_failed": _("The report could not be prepared. Please try again later."),
    "abandoned": _("The report was not prepared in time. Please ask for it again."),
}
DEFAULT_FAILURE_MESSAGE = FAILURE_MESSAGES["generation_failed"]
