from django.contrib import admin

from .models import ScheduledRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """A console list that staff read but never edit: the rows are written by services (the ledger, logs,
    records of what happened), so add, change and delete are refused for everyone."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "enqueued_at", "task_result_id"]
    list_filter = ["job"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
