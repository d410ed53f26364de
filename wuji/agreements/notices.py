"""What the agreement tells customers: a revision is coming (clause 11; a legal notice, so mandatory)."""

from wuji.notifications.choices import NoticeKind
from wuji.notifications.events import Event, declare

REVISED = declare(Event(
    code="agreement.revised",
    kind=NoticeKind.LEGAL,
    subject_zh="《{{ title }}》修订公告：新版本将于 {{ effective }} 生效",
    body_zh="我们修订了《{{ title }}》，新版本 {{ version }} 将于 {{ effective }}（北京时间）起生效。"
            "依据协议第十一条，修订内容在公告 7 日后生效。请在生效前阅读全文：{{ link }}。"
            "新版本生效后，您需要在登录时阅读并同意新版本，方可继续使用控制台和 API。",
    subject_en="Revision of the \"{{ title }}\": the new version takes effect on {{ effective }}",
    body_en="We have revised the \"{{ title }}\". The new version {{ version }} takes effect on {{ effective }} "
            "(Beijing time). Under clause 11 of the agreement a revision takes effect 7 days after its notice. "
            "Please read the full text before then: {{ link }}. Once it is in force you will be asked to read and "
            "accept it when you sign in before you can go on using the portal and the API.",
    mandatory=True,
))
