"""The notification settings form: two switches per kind and how emails are batched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.notifications.kinds import KINDS
from apps.notifications.models import DeliverySettings
from apps.notifications.selectors import Choice

CHANNELS = ("in_app", "email")


@dataclass(frozen=True)
class KindRow:
    """One row of the settings table: a kind and its two checkboxes."""

    key: str
    label: str | Promise
    in_app: forms.BoundField
    email: forms.BoundField


def field_name(kind: str, channel: str) -> str:
    return f"{kind}__{channel}"


class PreferencesForm(forms.Form):
    email_frequency = forms.ChoiceField(
        label=_("How to send the emails you chose"),
        choices=DeliverySettings.Frequency.choices,
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        choices: dict[str, Choice],
        email_frequency: str,
        **kwargs: Any,
    ) -> None:
        initial: dict[str, object] = {"email_frequency": email_frequency}
        for key, choice in choices.items():
            initial[field_name(key, "in_app")] = choice.in_app
            initial[field_name(key, "email")] = choice.email
        super().__init__(data, initial=initial, **kwargs)
        for key, kind in KINDS.items():
            # The table's column headers say which channel; the label names both for people
            # who reach a checkbox without the table around it (screen reader form mode).
            self.fields[field_name(key, "in_app")] = forms.BooleanField(
                label=_("In the app (%(kind)s)") % {"kind": kind.label}, required=False
            )
            self.fields[field_name(key, "email")] = forms.BooleanField(
                label=_("By email (%(kind)s)") % {"kind": kind.label}, required=False
            )

    def rows(self) -> list[KindRow]:
        return [
            KindRow(
                key=key,
                label=kind.label,
                in_app=self[field_name(key, "in_app")],
                email=self[field_name(key, "email")],
            )
            for key, kind in KINDS.items()
        ]

    def chosen(self) -> dict[str, tuple[bool, bool]]:
        """Each kind's (in_app, email), for `services.set_preferences`."""
        data = self.cleaned_data
        return {
            key: (bool(data[field_name(key, "in_app")]), bool(data[field_name(key, "email")]))
            for key in KINDS
        }
