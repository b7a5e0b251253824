from __future__ import annotations

from typing import Any

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from apps.core.personal_data import PersonalData, register, rows
from apps.courses.models import Course, CourseInvitation, Enrollment, LessonProgress


def export_user_data(user: Any) -> dict[str, Any]:
    return {
        "enrollments": rows(Enrollment.objects.filter(student=user)),
        "progress": rows(LessonProgress.objects.filter(enrollment__student=user)),
        "teaching": [
            {"id": c.pk, "title": c.title} for c in Course.objects.filter(instructors=user)
        ],
        "invitations_sent": rows(CourseInvitation.objects.filter(invited_by=user), "token"),
        "invitations_accepted": rows(CourseInvitation.objects.filter(accepted_by=user), "token"),
    }


def erase_user_data(user: Any) -> None:
    # Enrollments and progress are the person's own: deleted. Decisions they made on other
    # people's enrollments and invitations they sent are kept, pointing at the anonymised user.
    Enrollment.objects.filter(student=user).delete()
    # Invitations to the person stay in the course's record, without saying whom (an address
    # per invitation: one course invites an address once).
    CourseInvitation.objects.filter(Q(accepted_by=user) | Q(email__iexact=user.email)).update(
        accepted_by=None,
        email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@invalid.example")),
    )
    for course in Course.objects.filter(instructors=user):
        course.instructors.remove(user)


register(
    PersonalData(
        app_label="courses",
        models=(
            "courses.Enrollment",
            "courses.LessonProgress",
            "courses.Course",
            "courses.CourseInvitation",
        ),
        purpose="Which courses a person takes or teaches and how far they are",
        categories=("enrollments", "lesson progress", "courses taught", "invitations"),
        retention="While the account exists",
        exporter=export_user_data,
        eraser=erase_user_data,
        recipients=("course instructors",),
        erasure=(
            "Enrollments and progress deleted, removed from the courses taught; invitations "
            "no longer name the person"
        ),
    )
)
