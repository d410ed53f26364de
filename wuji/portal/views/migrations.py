"""Server migration (机房迁移) on the server page: the notice box of each move staff scheduled, so the owner
sees the window, the new public IP and the DNS reminder where they manage the server, not only in the inbox."""

from wuji.compute import migration
from wuji.compute.choices import MigrationState

ALERT_CLASSES = {
    MigrationState.SCHEDULED: "alert-warning",
    MigrationState.RUNNING: "alert-info",
    MigrationState.DONE: "alert-success",
    MigrationState.FAILED: "alert-error",
    MigrationState.CANCELLED: "alert-info",
}


def server_migration_context(owner, server) -> dict:
    """For the server page: one notice per scheduled, running or recently ended move (window in Beijing time,
    addresses, error), worded like the notices the owner was sent."""
    return {"migration_notices": [
        {**migration.notice_context(item), "state": item.state, "finished_at": item.finished_at,
         "alert_class": ALERT_CLASSES[item.state]}
        for item in migration.migrations_of(owner, server.pk)
    ]}
