from django.contrib import admin

from .models import Acceptance, AgreementVersion


@admin.register(AgreementVersion)
class AgreementVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_at", "effective_at"]

    def has_add_permission(self, request):
        return False  # published with `wuji agreement publish`, which enforces the notice period (clause 11)

    def has_change_permission(self, request, obj=None):
        return False  # a published text is never edited; publish a new version instead

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Acceptance)
class AcceptanceAdmin(admin.ModelAdmin):
    list_display = ["user", "version", "accepted_at", "ip", "channel"]
    list_select_related = ["user", "version"]
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
