"""Portal: notification settings (通知设置) — channels per kind, marketing consent and the WeChat binding."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from wuji.audit.choices import Channel
from wuji.portal.http import client_ip

from . import preferences, wechat
from .choices import ALWAYS_ON_KINDS, OPTIONAL_CHANNELS, NoticeChannel, NoticeKind


def _rows(user) -> list[dict]:
    current = preferences.preferences_of(user)
    return [{"kind": kind, "label": label, "locked": kind in ALWAYS_ON_KINDS,
             "cells": [{"channel": channel, "name": f"{kind}/{channel}", "on": current[(kind, channel)]}
                       for channel in OPTIONAL_CHANNELS]}
            for kind, label in NoticeKind.choices()]


def _save(request) -> None:
    action = request.POST.get("action")
    ip = client_ip(request)
    if action == "preferences":
        ticked = set(request.POST.getlist("on"))
        wanted = {(kind, channel): f"{kind}/{channel}" in ticked
                  for kind in preferences.switchable_kinds() for channel in OPTIONAL_CHANNELS}
        preferences.set_preferences(request.user, wanted, channel=Channel.WEB, ip=ip)
        messages.success(request, _("通知设置已保存。"))
    elif action in ("grant", "withdraw"):
        preferences.record_consent(request.user, granted=action == "grant", channel=Channel.WEB, ip=ip,
                                   text_version=request.POST.get("text_version", ""))
        messages.success(request, _("已同意接收营销信息。") if action == "grant" else _("已撤回营销信息同意。"))
    elif action == "unbind_wechat":
        preferences.unbind_wechat(request.user, channel=Channel.WEB, ip=ip)
        messages.success(request, _("已解除微信绑定。"))


@login_required
def notification_settings(request):
    if request.method == "POST":
        try:
            _save(request)
        except preferences.PreferenceRefused as exc:
            messages.error(request, exc.message)
        return redirect("portal:notification_settings")
    return render(request, "notifications/settings.html", {
        "rows": _rows(request.user),
        "channels": [(c, NoticeChannel.label(c)) for c in OPTIONAL_CHANNELS],
        "consent": preferences.current_consent(request.user),
        "consent_text": preferences.CONSENT_TEXT,
        "consent_version": preferences.CONSENT_TEXT_VERSION,
        "wechat_openid": preferences.wechat_openid(request.user),
        "wechat_available": wechat.is_enabled_for("default"),
    })
