"""Forms for scheduling and changing a session and for starting an instant one.

Date and time fields are `datetime-local` inputs read in the viewer's time zone (the preferences
middleware activates the profile's zone), and shown back in it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.policies import has_role
from apps.accounts.roles import Role
from apps.courses.models import Course
from apps.videoconference.models import VideoSession

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=LOCAL_INPUT_FORMAT)


def _local_datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )


class SessionForm(forms.Form):
    """Schedule a course session or change one; the service checks the rest again."""

    title = forms.CharField(label=_("Title"), max_length=160)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional: what the session is about, what to prepare."),
    )
    starts_at = _local_datetime_field(_("Starts at"))
    ends_at = _local_datetime_field(_("Ends at"))
    join_policy = forms.ChoiceField(
        label=_("Who may join"),
        choices=VideoSession.JoinPolicy.choices,
        initial=VideoSession.JoinPolicy.MEMBERS,
        widget=forms.RadioSelect,
    )
    participant_cap = forms.IntegerField(
        label=_("Participant limit"),
        min_value=2,
        max_value=500,
        initial=50,
        help_text=_("The most people connected at once, hosts included (2 to 500)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        for name in ("starts_at", "ends_at"):
            self.fields[name].help_text = _("In your time zone (%(zone)s).") % {"zone": zone}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at:
            if ends_at <= starts_at:
                self.add_error("ends_at", _("The end must be after the start."))
            elif ends_at <= timezone.now():
                self.add_error("ends_at", _("The end must be in the future."))
        return data

    def add_model_errors(self, error: ValidationError) -> None:
        """Show the model's own validation (run again by the service) on the right fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)

    @staticmethod
    def initial_from(session: VideoSession) -> dict[str, Any]:
        return {
            "title": session.title,
            "description": session.description,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "join_policy": session.join_policy,
            "participant_cap": session.participant_cap,
        }


def taught_courses(user: Any) -> QuerySet[Course]:
    return Course.objects.filter(instructors=user).only("id", "title").order_by("title", "id")


class InstantSessionForm(forms.Form):
    """Every field is optional: one click on "Start an instant session" is enough."""

    title = forms.CharField(label=_("Title"), max_length=160, required=False)
    course = forms.ModelChoiceField(
        label=_("Course"),
        queryset=Course.objects.none(),
        required=False,
        empty_label=_("No course (anyone with the link)"),
    )
    join_policy = forms.ChoiceField(
        label=_("Who may join"),
        choices=[
            ("", _("Course members, or anyone with the link when there is no course")),
            *VideoSession.JoinPolicy.choices,
        ],
        required=False,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        course_field = self.fields["course"]
        assert isinstance(course_field, forms.ModelChoiceField)
        course_field.queryset = (
            taught_courses(user) if has_role(user, Role.INSTRUCTOR) else Course.objects.none()
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        policy = data.get("join_policy") or ""
        if not policy:
            # A session without a course has no members: the link is what lets people in.
            policy = (
                VideoSession.JoinPolicy.MEMBERS
                if data.get("course")
                else VideoSession.JoinPolicy.LINK
            )
        elif policy == VideoSession.JoinPolicy.MEMBERS and not data.get("course"):
            self.add_error("join_policy", _("Only a course session can be limited to members."))
        data["join_policy"] = policy
        return data
