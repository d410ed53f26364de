"""What compute tells customers."""

from wuji.notifications.events import Event, declare

SERVER_READY = declare(Event(
    code="compute.server_ready",
    subject_zh="您的服务器 {{ name }} 已创建完成",
    body_zh="服务器 {{ name }}（{{ uuid }}）已在 {{ region }} 创建完成并开机。"
            "请使用下单时显示的 root 密码登录，并妥善保管。",
    subject_en="Your server {{ name }} is ready",
    body_en="Server {{ name }} ({{ uuid }}) in {{ region }} has been created and started. Log in with the root "
            "password shown when you ordered it, and keep it safe.",
))

SERVER_FAILED = declare(Event(
    code="compute.server_failed",
    subject_zh="您的服务器 {{ name }} 创建失败",
    body_zh="服务器 {{ name }}（{{ uuid }}）创建失败：{{ error }}。我们的工作人员会尽快处理，您也可以提交工单。",
    subject_en="Your server {{ name }} could not be created",
    body_en="Server {{ name }} ({{ uuid }}) could not be created: {{ error }}. Our staff will look into it; you can "
            "also open a ticket.",
))
