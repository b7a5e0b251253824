"""Profile pages and the theme switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts import policies, services
from apps.accounts.forms import ProfileForm, ThemeForm
from apps.accounts.models import Profile, Theme
from apps.core.errors import InvalidInput
from apps.core.http import AuthenticatedRequest

THEME_COOKIE_MAX_AGE = 60 * 60 * 24 * 365


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    profile = Profile.objects.get(user=user)
    # Bound on every POST (even an empty one), so a submission is always validated.
    posted = request.method == "POST"
    form = ProfileForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        instance=profile,
        user=user,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        services.update_profile(
            user=user,
            display_name=data["display_name"],
            bio=data["bio"],
            time_zone=data["time_zone"],
            language=data["language"],
            theme=data["theme"],
            captions_on=data["captions_on"],
            avatar=data.get("avatar") if "avatar" in form.changed_data else None,
            remove_avatar=bool(data.get("remove_avatar")),
        )
        messages.success(request, _("Your profile has been saved."))
        return redirect("accounts:profile_edit")
    if form.is_bound:
        # Errors must not leave the instance half-updated in memory for the page's header.
        profile.refresh_from_db()
    return render(
        request,
        "accounts/profile_edit.html",
        {"form": form, "profile": profile},
        status=400 if form.errors else 200,
    )


@require_safe
def public_profile(request: HttpRequest, user_id: int) -> HttpResponse:
    owner = policies.get_profile_owner_for_view(viewer=request.user, user_id=user_id)
    return render(
        request,
        "accounts/public_profile.html",
        {
            "owner": owner,
            "profile": owner.profile,
            "can_edit": policies.can_edit_profile(request.user, owner),
        },
    )


@require_POST
def set_theme(request: HttpRequest) -> HttpResponse:
    """Stores the theme in the profile (signed in) and always in a cookie (works without JS)."""
    form = ThemeForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Choose one of the offered themes."))
    theme = form.cleaned_data["theme"]
    if request.user.is_authenticated:
        services.set_theme(user=request.user, theme=theme)
    target = form.cleaned_data.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response: HttpResponse
    if request.headers.get("Accept", "").startswith("application/json"):
        response = HttpResponse(status=204)
    else:
        response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.THEME_COOKIE_NAME,
        theme if theme in Theme.values else Theme.SYSTEM,
        max_age=THEME_COOKIE_MAX_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=False,
    )
    return response


@login_required
@require_safe
def security(request: AuthenticatedRequest) -> HttpResponse:
    """The person's second factors, their latest sign-ins, and (when their role needs it) why
    they were sent here to set up 2FA."""
    from apps.accounts import mfa
    from apps.activity.actions import ACTIONS
    from apps.activity.selectors import recent_sign_ins

    user = request.user
    factors = mfa.factors_of(user)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    context = {
        "factors": factors,
        "has_totp": any(f.type == "totp" for f in factors),
        "setup_required": mfa.second_factor_missing(user),
        "next_url": next_url,
        "sign_ins": [(e, ACTIONS[e.action].description) for e in recent_sign_ins(user)],
    }
    return render(request, "accounts/security.html", context)
