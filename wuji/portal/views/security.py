"""Account and security (clauses 2.2, 6.1–6.4): profile, contacts, security question, two-factor,
third-party accounts, sessions, login records, step-up verification and reporting unauthorised use."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuji.accounts import contacts, otp
from wuji.accounts import services as accounts
from wuji.accounts.choices import Factor, LoginEvent, LoginResult
from wuji.accounts.security_models import SecurityQuestion
from wuji.compliance import services as compliance

from ..http import client_ip, paginate
from ..security_forms import (
    CancelAccountForm,
    ContactConfirmForm,
    ContactStartForm,
    ProfileForm,
    RecoverForm,
    RecoverStartForm,
    ReportForm,
    SecurityQuestionForm,
    StepUpForm,
)

CONTACT_SESSION = "portal.contact_change"


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def step_up_redirect(request, exc: accounts.StepUpRequired, next_url: str):
    """Send the user to the verification page; they come back to `next_url` afterwards."""
    from django.utils.http import urlencode

    messages.warning(request, str(exc))
    return redirect(reverse("portal:step_up") + "?" + urlencode({"operation": exc.operation, "next": next_url}))


@login_required
def overview(request):
    user = request.user
    return render(request, "portal/security/overview.html", {
        "profile": accounts.profile_of(user),
        **accounts.security_summary(user),  # the API's GET /account/security/ reads the same summary
        "session_count": len(accounts.sessions_of(user)),
        "recent_records": accounts.login_records_of(user)[:5],
        "phone_masked": otp.mask_address(user.phone) if user.phone else "",
    })


@login_required
def profile(request):
    instance = accounts.profile_of(request.user)
    form = ProfileForm(request.POST or None, instance=accounts.profile_of(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            accounts.update_profile(user=request.user, ip=client_ip(request),
                                    **{name: form.cleaned_data[name] for name in ProfileForm.Meta.fields})
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("资料已保存。"))
            return redirect("portal:profile")
    return render(request, "portal/security/profile.html", {
        "form": form, "profile": instance, "flags": contacts.contact_flags_of(request.user)[:10],
        "phone_masked": otp.mask_address(request.user.phone) if request.user.phone else ""})


@login_required
def contact_change(request, kind: str):
    if kind not in accounts.CONTACT_KINDS:
        raise Http404
    try:
        factor = accounts.require_step_up(request, "contact_change")
    except accounts.StepUpRequired as exc:
        return step_up_redirect(request, exc, request.path)
    except accounts.StepUpFailed as exc:
        messages.error(request, str(exc))
        return redirect(request.path)
    pending = request.session.get(CONTACT_SESSION)
    pending = pending if pending and pending.get("kind") == kind else None
    start_form = ContactStartForm(request.POST if request.method == "POST" and "start" in request.POST else None)
    confirm_form = ContactConfirmForm(request.POST if request.method == "POST" and "confirm" in request.POST
                                      else None, initial={"new_address": pending["address"] if pending else ""})
    if start_form.is_bound and start_form.is_valid():
        try:
            sent = accounts.start_contact_change(user=request.user, kind=kind, ip=client_ip(request),
                                                 new_address=start_form.cleaned_data["new_address"])
        except ValidationError as exc:
            _add_errors(start_form, exc)
        except otp.RateLimited as exc:
            start_form.add_error("new_address", exc.message)
        else:
            reverify = sent["old"] is None  # re-verifying a contact flagged invalid (4.5.1)
            request.session[CONTACT_SESSION] = {"kind": kind, "address": sent["new"].address, "reverify": reverify}
            if reverify:
                messages.info(request, _("验证码已发送至 %(new)s。") % {"new": sent["new"].masked_address})
            else:
                messages.info(request, _("验证码已分别发送至 %(new)s 和 %(old)s。") % {
                    "new": sent["new"].masked_address, "old": sent["old"].masked_address})
            return redirect(request.path)
    if pending and pending.get("reverify"):
        confirm_form.fields["old_code"].required = False
    if confirm_form.is_bound and confirm_form.is_valid():
        try:
            accounts.change_contact(user=request.user, kind=kind, ip=client_ip(request), factor=factor,
                                    **confirm_form.cleaned_data)
        except ValidationError as exc:
            _add_errors(confirm_form, exc)
        else:
            request.session.pop(CONTACT_SESSION, None)
            messages.success(request, _("联系方式已验证。") if pending and pending.get("reverify")
                             else _("联系方式已更换。"))
            return redirect("portal:profile")
    return render(request, "portal/security/contact.html", {
        "kind": kind, "pending": pending, "start_form": start_form, "confirm_form": confirm_form,
        "current": getattr(request.user, kind) or "",
        "flagged": contacts.is_flagged(request.user, contacts.KIND_CONTACT[kind]),
    })


@login_required
def question(request):
    form = SecurityQuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.set_security_question(user=request.user, ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("密保问题已设置。"))
            return redirect("portal:security")
    return render(request, "portal/security/question.html", {
        "form": form, "current": SecurityQuestion.objects.filter(user=request.user).first()})


@login_required
def session_list(request):
    return render(request, "portal/security/sessions.html", {
        "sessions": accounts.sessions_of(request.user),
        "current_key": request.session.session_key,
    })


@login_required
@require_POST
def session_end(request, pk: int):
    if not accounts.end_session(user=request.user, session_id=pk, ip=client_ip(request)):
        raise Http404
    messages.success(request, _("会话已结束。"))
    return redirect("portal:sessions")


@login_required
@require_POST
def session_end_all(request):
    """End every session; with keep_current, every other one."""
    keep = request.session.session_key if request.POST.get("keep_current") else None
    ended = accounts.end_all_sessions(user=request.user, ip=client_ip(request), keep_session_key=keep)
    if keep is None:
        logout(request)
        messages.success(request, _("已结束全部 %(n)d 个会话，请重新登录。") % {"n": ended})
        return redirect("account_login")
    messages.success(request, _("已结束其他 %(n)d 个会话。") % {"n": ended})
    return redirect("portal:sessions")


@login_required
def login_records(request):
    return render(request, "portal/security/login_records.html", {
        "page": paginate(request, accounts.login_records_of(request.user)),
        "LoginEvent": LoginEvent, "LoginResult": LoginResult,
    })


@login_required
def report_unauthorised(request):
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = accounts.report_unauthorised_use(user=request.user, ip=client_ip(request),
                                                description=form.cleaned_data["description"])
        logout(request)
        messages.warning(request, _("账户已锁定（安全事件 #%(case)d）：所有会话已结束，所有 API 密钥已吊销。"
                                    "工作人员审核后会为您解锁。") % {"case": case.pk})
        return redirect("portal:home")
    return render(request, "portal/security/report.html", {"form": form})


@login_required
@require_POST
def data_export(request):
    """「我的数据」: download all of one's own data as one JSON file (decision 0031), after step-up verification."""
    try:
        factor = accounts.require_step_up(request, "data_export")
    except accounts.StepUpRequired as exc:
        return step_up_redirect(request, exc, reverse("portal:security"))
    except accounts.StepUpFailed as exc:
        messages.error(request, str(exc))
        return redirect("portal:security")
    content = compliance.export_own_data(request.user, factor=factor, channel="web", ip=client_ip(request))
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wuji-my-data-{request.user.pk}.json"'
    return response


@login_required
def cancel_account(request):
    """注销账户 (decision 0031): the consequences and what still stands in the way; with the box ticked and step-up
    verification passed, the account is cancelled and this session ends."""
    form = CancelAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            factor = accounts.require_step_up(request, "account_cancel")
            accounts.cancel_account(request.user, factor=factor, channel="web", ip=client_ip(request))
        except accounts.StepUpRequired as exc:
            return step_up_redirect(request, exc, reverse("portal:cancel_account"))
        except (accounts.StepUpFailed, accounts.CancellationRefused) as exc:
            messages.error(request, str(exc))
        else:
            logout(request)
            messages.success(request, _("您的账户已注销。"))
            return redirect("portal:home")
    return render(request, "portal/security/cancel.html", {
        "form": form, "obstacles": accounts.obstacles(request.user)})


def _safe_next(request, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return default


@login_required
def step_up(request):
    """Verify the user's identity for a sensitive operation: password, TOTP, or an SMS/e-mail code."""
    from django.conf import settings

    operation = request.POST.get("operation") or request.GET.get("operation") or ""
    if operation not in settings.WUJI_STEP_UP:
        raise Http404
    next_url = _safe_next(request, "/security/")
    factors = accounts.available_factors(request.user, operation)
    form = StepUpForm(request.POST if "verify" in request.POST else None)
    if request.method == "POST" and "send" in request.POST:
        try:
            issued = accounts.send_step_up_code(request, operation, request.POST.get("send"))
        except (accounts.StepUpFailed, otp.RateLimited) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.info(request, _("验证码已发送至 %(address)s。") % {"address": issued.masked_address})
    elif form.is_bound and form.is_valid():
        try:
            factor = accounts.verify_factor(request, operation, form.cleaned_data["factor"],
                                            form.cleaned_data["secret"])
        except accounts.StepUpFailed as exc:
            form.add_error("secret", str(exc))
        else:
            messages.success(request, _("身份验证成功（%(factor)s），请继续操作。") % {"factor": Factor.label(factor)})
            return HttpResponseRedirect(next_url)  # a URL as posted: redirect() would try to reverse a bare word
    return render(request, "portal/security/step_up.html", {
        "operation": operation, "operation_label": accounts.operation_label(operation), "factors": factors,
        "form": form, "next": next_url, "Factor": Factor,
        "phone_masked": otp.mask_address(request.user.phone) if request.user.phone else "",
        "email_masked": otp.mask_address(request.user.email),
    })


def recover(request):
    """Account recovery with a verified contact code AND the security answer (clause 6.1)."""
    identifier = request.session.get("portal.recover")
    start_form = RecoverStartForm(request.POST if "start" in request.POST else None)
    form = RecoverForm(request.POST if "recover" in request.POST else None, initial={"identifier": identifier})
    question_text = None
    if identifier:
        user = accounts.find_user(identifier)
        row = SecurityQuestion.objects.filter(user=user).first() if user else None
        question_text = row.question if row else None
    if start_form.is_bound and start_form.is_valid():
        ident = start_form.cleaned_data["identifier"].strip()
        try:
            found = accounts.start_recovery(identifier=ident, ip=client_ip(request))
        except ValidationError as exc:
            _add_errors(start_form, ValidationError({"identifier": exc.messages}))
        except otp.RateLimited as exc:
            start_form.add_error("identifier", exc.message)
        else:
            if found is None:
                start_form.add_error("identifier", _("该账户未设置密保问题，请使用“忘记密码”通过邮箱找回。"))
            else:
                request.session["portal.recover"] = ident
                messages.info(request, _("验证码已发送，请填写验证码和密保答案。"))
                return redirect("portal:recover")
    if form.is_bound and form.is_valid():
        try:
            accounts.recover_account(request=request, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            request.session.pop("portal.recover", None)
            messages.success(request, _("密码已重置，所有会话已结束，请用新密码登录。"))
            return redirect("account_login")
    return render(request, "portal/security/recover.html", {
        "start_form": start_form, "form": form, "identifier": identifier, "question": question_text})
