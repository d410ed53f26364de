"""The staff console: the queue with filters, measures with a reason form, partner tokens shown once."""

from django.urls import reverse

from wuji.abuse.choices import CaseStatus
from wuji.abuse.models import PartnerFeed
from wuji.audit.models import Instruction
from wuji.notifications.models import Notice

from .test_complaints import complain


def test_staff_triage_and_warn_from_the_console(client, server, customer, officer):
    from django.contrib.auth.models import Permission

    officer.user_permissions.add(*Permission.objects.filter(content_type__app_label="abuse"))
    new, other = complain(), complain("192.0.2.9")
    client.force_login(officer)
    url = reverse("admin:abuse_case_changelist")
    queue = client.get(url, {"status__exact": "new"}).content.decode()
    assert new.number in queue and other.number in queue
    assert client.post(url, {"action": "triage", "_selected_action": [new.pk]}).status_code == 302
    form = client.post(url, {"action": "act_warn", "_selected_action": [new.pk]})
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    done = client.post(url, {"action": "act_warn", "_selected_action": [new.pk], "apply": "1",
                             "reason": "请停止发送垃圾邮件"})
    assert done.status_code == 302
    new.refresh_from_db()
    assert new.status == CaseStatus.ACTIONED
    assert Instruction.objects.get(action="abuse.warn").params["reason"] == "请停止发送垃圾邮件"
    assert Notice.objects.filter(recipient=customer, event="abuse.action_taken").exists()
    client.get(url)  # shows (and consumes) the success messages, which name the case
    assert new.number not in client.get(url, {"status__exact": "new"}).content.decode()
    refused = client.post(url, {"action": "act_warn", "_selected_action": [other.pk], "apply": "1",
                                "reason": "x"}, follow=True)
    assert "只有已分拣" in refused.content.decode()


def test_a_partner_token_is_shown_once_and_only_its_hash_kept(client, officer):
    from django.contrib.auth.models import Permission

    officer.user_permissions.add(*Permission.objects.filter(content_type__app_label="abuse"))
    client.force_login(officer)
    response = client.post(reverse("admin:abuse_partnerfeed_add"), {"name": "反钓鱼联盟", "is_active": "on"},
                           follow=True)
    feed = PartnerFeed.objects.get()
    page = response.content.decode()
    token = page.split("wpf_", 1)[1].split("<", 1)[0].split()[0]
    assert feed.token_hash and f"wpf_{token}" not in feed.token_hash
    from wuji.abuse import services

    assert services.partner_for(f"wpf_{token}") == feed
