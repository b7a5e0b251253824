"""The request form behind the "Progress report" and "Attendance report" buttons."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.reports.models import Report

SPREADSHEET_FORMATS = [
    (Report.Format.CSV, Report.Format.CSV.label),
    (Report.Format.XLSX, Report.Format.XLSX.label),
]


class ReportRequestForm(forms.Form):
    # Only the course and session reports are asked for here; the activity log and data exports
    # have their own pages (apps.activity, apps.privacy).
    kind = forms.ChoiceField(
        choices=[
            (Report.Kind.COURSE_PROGRESS, Report.Kind.COURSE_PROGRESS.label),
            (Report.Kind.SESSION_ATTENDANCE, Report.Kind.SESSION_ATTENDANCE.label),
        ]
    )
    file_format = forms.ChoiceField(label=_("File format"), choices=SPREADSHEET_FORMATS)
    # The course's address name or the session's meeting token, whichever the kind needs.
    course = forms.SlugField(required=False, max_length=100)
    session = forms.CharField(required=False, max_length=64)

    def clean(self) -> dict:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Report.Kind.COURSE_PROGRESS and not data.get("course"):
            raise forms.ValidationError(_("Choose a course."))
        if kind == Report.Kind.SESSION_ATTENDANCE and not data.get("session"):
            raise forms.ValidationError(_("Choose a session."))
        return data
