"""What ICP filings (备案) tell their owners: the review's outcome and a domain that stopped pointing at its server."""

from wuji.notifications.events import Event, declare

FILING_APPROVED = declare(Event(
    code="icp_filing.approved",
    subject_zh="ICP 备案已通过审核：{{ domain }}",
    body_zh="您为域名 {{ domain }}（备案号 {{ icp_number }}）在服务器“{{ server }}”上提交的备案已通过审核。"
            "该域名现在可以通过 80/443 端口访问该服务器。审核意见：{{ reason }}",
    subject_en="ICP filing approved: {{ domain }}",
    body_en="Your filing for {{ domain }} (number {{ icp_number }}) on server \"{{ server }}\" has been approved. "
            "The domain can now reach that server on ports 80/443. Reviewer's note: {{ reason }}",
    mandatory=True,
))

FILING_REJECTED = declare(Event(
    code="icp_filing.rejected",
    subject_zh="ICP 备案未通过审核：{{ domain }}",
    body_zh="您为域名 {{ domain }}（备案号 {{ icp_number }}）提交的备案未通过审核，原因：{{ reason }}。"
            "在中国大陆地域，未备案的域名无法通过 80/443 端口访问服务器；请核对后在“ICP 备案”页面重新提交。",
    subject_en="ICP filing not approved: {{ domain }}",
    body_en="Your filing for {{ domain }} (number {{ icp_number }}) was not approved. Reason: {{ reason }}. In "
            "mainland regions a domain without an approved filing cannot reach the server on ports 80/443; "
            "please check and submit again on the ICP filings page.",
    mandatory=True,
))

FILING_DNS_FLAGGED = declare(Event(
    code="icp_filing.dns_flagged",
    subject_zh="备案域名未解析到备案服务器：{{ domain }}",
    body_zh="{{ checked_at }}（北京时间）检查时，已备案域名 {{ domain }} 未解析到备案服务器“{{ server }}”的公网 IP "
            "{{ expected }}（结果：{{ result }}；解析到：{{ found }}）。依据接入备案核查要求，已备案域名应解析到"
            "备案时登记的服务器。请修改域名解析，或在“ICP 备案”页面撤回该备案；长期不一致的备案可能被取消接入。"
            "恢复正确解析后，下一次检查会自动解除该提示。",
    subject_en="Filed domain does not point at its server: {{ domain }}",
    body_en="At {{ checked_at }} (Beijing time) the filed domain {{ domain }} did not resolve to the public IP "
            "{{ expected }} of server \"{{ server }}\" (result: {{ result_en }}; found: {{ found }}). A filed "
            "domain must point at the server registered with the filing. Please fix the DNS records or withdraw "
            "the filing on the ICP filings page; filings that stay inconsistent may have their access cancelled. "
            "The next check clears this once the domain resolves correctly.",
    mandatory=True,
))
