"""The delivery task for one-time codes. Imported by `wuji.accounts.otp`, so it is registered whenever the
service is; the task itself only calls the service (`otp.deliver_code`), which records the result."""

from django_tasks import task


@task()
def deliver_one_time_code(code_id: int) -> str:
    """Send one issued code by SMS or e-mail and log the attempt on its row (idempotent: sends at most once)."""
    from . import otp

    return otp.deliver_code(code_id)
