"""Account forms: signup extras, profile editing and the theme switch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.avatars import validate_and_reencode
from apps.accounts.models import Profile, Theme, User


class SignupForm(forms.Form):
    """Extra fields on allauth's signup form (allauth calls `signup` after creating the user)."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("How other people in your courses and live sessions will see you."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    accept_documents = forms.BooleanField(
        label=_("I accept the terms of use and the privacy notice"),
        label_suffix="",
        error_messages={"required": _("Please accept the terms of use and the privacy notice.")},
    )
    reminder_emails = forms.BooleanField(
        label=_("Send me reminder emails before the live sessions of my courses"),
        label_suffix="",
        required=False,
        help_text=_("Optional. You can change your mind at any time on the privacy page."),
    )

    field_order = [
        "display_name",
        "email",
        "password1",
        "password2",
        "accept_documents",
        "reminder_emails",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from apps.privacy.consent import current_versions

        versions = current_versions()
        field = self.fields["accept_documents"]
        if versions:
            field.label = _(
                "I accept the terms of use (version %(terms)s) and the privacy notice "
                "(version %(notice)s)"
            ) % {"terms": versions.get("terms", "—"), "notice": versions.get("privacy_notice", "—")}
        field.help_text = format_html(
            gettext(
                'Read the <a href="{}">terms of use</a> and the <a href="{}">privacy notice</a>.'
            ),
            reverse("privacy:terms"),
            reverse("privacy:notice"),
        )

    def signup(self, request: Any, user: User) -> None:
        # The adapter's save_user has already stored display_name; what remains is the record
        # of what the person accepted and consented to (apps.privacy.consent).
        from apps.privacy.consent import record_signup

        record_signup(
            user=user,
            reminder_emails=bool(self.cleaned_data.get("reminder_emails")),
            request=request,
        )


class AvatarUploadMixin:
    """Every way an avatar gets in (profile page, admin) is checked and re-encoded the same way."""

    cleaned_data: dict[str, Any]

    def clean_avatar(self) -> Any:
        avatar = self.cleaned_data.get("avatar")
        if isinstance(avatar, UploadedFile):
            return validate_and_reencode(avatar)
        return avatar


class ProfileForm(AvatarUploadMixin, forms.ModelForm):
    display_name = forms.CharField(label=_("Display name"), max_length=80)
    remove_avatar = forms.BooleanField(label=_("Remove my avatar"), required=False)

    class Meta:
        model = Profile
        fields = ["bio", "avatar", "time_zone", "language", "theme", "captions_on"]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 5}),
            "avatar": forms.ClearableFileInput(
                attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
            ),
        }
        help_texts = {
            "avatar": _("JPEG, PNG, GIF or WebP, up to 2 MB. It is cropped to a square."),
            "bio": _("A few sentences shown on your public profile."),
        }

    field_order = [
        "display_name",
        "bio",
        "avatar",
        "remove_avatar",
        "time_zone",
        "language",
        "theme",
        "captions_on",
    ]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["display_name"].initial = user.display_name
        self.fields["avatar"].widget = forms.FileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}
        )
        if not (self.instance and self.instance.avatar):
            del self.fields["remove_avatar"]


class ThemeForm(forms.Form):
    theme = forms.ChoiceField(label=_("Theme"), choices=Theme.choices)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
