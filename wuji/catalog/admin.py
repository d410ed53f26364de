from django.contrib import admin

from .models import HourlyPrice, Image, Plan, Price, Region, ServiceFee, SnapshotPrice


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "is_mainland", "is_active", "sort_order"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "vcpus", "memory_mib", "disk_gib", "bandwidth_mbps", "is_active"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "os_family", "volume", "kernel_volume", "is_active"]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["plan", "region", "cycle", "amount_fen", "effective_from"]
    list_filter = ["region", "cycle"]
    list_select_related = ["plan", "region"]

    def has_change_permission(self, request, obj=None):
        return False  # prices are effective-dated: add a new row instead of editing history


@admin.register(HourlyPrice)
class HourlyPriceAdmin(admin.ModelAdmin):
    list_display = ["plan", "region", "running_per_hour", "stopped_per_hour", "effective_from"]
    list_filter = ["region"]
    list_select_related = ["plan", "region"]

    def has_change_permission(self, request, obj=None):
        return False  # effective-dated like the price list: add a new row


@admin.register(SnapshotPrice)
class SnapshotPriceAdmin(admin.ModelAdmin):
    list_display = ["region", "per_gib_hour", "effective_from"]
    list_filter = ["region"]
    list_select_related = ["region"]

    def has_change_permission(self, request, obj=None):
        return False  # effective-dated like the price list: add a new row


@admin.register(ServiceFee)
class ServiceFeeAdmin(admin.ModelAdmin):
    list_display = ["service", "amount_fen", "effective_from"]
    list_filter = ["service"]

    def has_change_permission(self, request, obj=None):
        return False  # effective-dated like the price list: add a new row
