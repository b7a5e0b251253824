"""Account forms: signup extras, profile editing and the theme switch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
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

    field_order = ["display_name", "email", "password1", "password2"]

    def signup(self, request: Any, user: User) -> None:
        # The adapter's save_user has already stored display_name; nothing more to do.
        return None


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
