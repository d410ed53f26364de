from django.contrib import admin

from wuji.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from .models import Account, Posting, Transaction


class PostingInline(ReadOnlyTabularInline):
    model = Posting
    fields = ["account", "amount", "balance_after"]
    readonly_fields = fields


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "customer", "balance", "version"]
    list_filter = ["kind"]
    search_fields = ["code", "customer__email"]
    list_select_related = ["customer"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "customer", "idempotency_key", "cause_type", "cause_id", "created_at"]
    list_filter = ["kind", "cause_type"]
    search_fields = ["idempotency_key", "customer__email", "cause_id"]
    list_select_related = ["customer"]
    inlines = [PostingInline]
