from __future__ import annotations

from typing import Any

from apps.core.personal_data import PersonalData, RetentionPeriod, register, rows
from apps.videoconference.models import Attendance, CalendarFeed, ChatMessage, VideoSession


def export_user_data(user: Any) -> dict[str, Any]:
    return {
        "attendance": rows(Attendance.objects.filter(user=user), "channel_name", "peer_id"),
        "chat_messages": rows(ChatMessage.objects.filter(author=user)),
        "sessions_hosted": [
            {
                "id": s.pk,
                "title": s.title,
                "starts_at": s.starts_at.isoformat() if s.starts_at else None,
            }
            for s in VideoSession.objects.filter(host=user)
        ],
        "calendar_feed": [{"created": True} for _ in CalendarFeed.objects.filter(user=user)],
    }


def erase_user_data(user: Any) -> None:
    # Attendance: like Moodle's attendance plugin, the person's own records are deleted (the
    # session's other participants do not rely on them). Chat lines are kept for the others and
    # shown under the anonymised user ("Deleted user"). Hosted sessions stay with the course.
    Attendance.objects.filter(user=user).delete()
    CalendarFeed.objects.filter(user=user).delete()


register(
    PersonalData(
        app_label="videoconference",
        models=(
            "videoconference.Attendance",
            "videoconference.ChatMessage",
            "videoconference.CalendarFeed",
            "videoconference.VideoSession",
        ),
        purpose="Running live sessions: who attended, the chat, who hosted",
        categories=("attendance", "chat messages", "hosted sessions", "calendar feed token"),
        retention="Chat and attendance deleted after a period; hosted sessions with the course",
        exporter=export_user_data,
        eraser=erase_user_data,
        recipients=("session participants (chat)", "course instructors (attendance)"),
        retention_periods=(
            RetentionPeriod("chat messages", "RETENTION_CHAT_DAYS"),
            RetentionPeriod("attendance", "RETENTION_ATTENDANCE_DAYS"),
        ),
        erasure=(
            "Attendance and calendar feed deleted; chat lines kept for the other participants, "
            "shown as “Deleted user”; hosted sessions kept with the course"
        ),
    )
)
