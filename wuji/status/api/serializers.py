"""Announcements, the status overview and maintenance windows over the API (issue 7 coverage, decision 0044):
the same fields as the public pages and /status.json."""

from rest_framework import serializers

from wuji.status.choices import AnnouncementLevel, IncidentStatus, MaintenanceImpact
from wuji.status.models import Announcement, Incident, IncidentUpdate, MaintenanceWindow


class AnnouncementSerializer(serializers.ModelSerializer):
    level = serializers.ChoiceField(choices=AnnouncementLevel.choices(), read_only=True)

    class Meta:
        model = Announcement
        fields = ["id", "title", "body", "level", "published_from", "published_until"]
        read_only_fields = fields


class IncidentUpdateSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices(), read_only=True)

    class Meta:
        model = IncidentUpdate
        fields = ["status", "message", "created_at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    nodes = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=IncidentStatus.choices(), read_only=True)
    updates = IncidentUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "title", "region", "nodes", "status", "started_at", "resolved_at", "updates"]
        read_only_fields = fields

    def get_nodes(self, obj: Incident) -> list[str]:
        return sorted(n.name for n in obj.nodes.all())


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    regions = serializers.SerializerMethodField()
    nodes = serializers.SerializerMethodField()
    impact = serializers.ChoiceField(choices=MaintenanceImpact.choices(), read_only=True)

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "title", "description", "regions", "nodes", "impact", "emergency", "starts_at", "ends_at"]
        read_only_fields = fields

    def get_regions(self, obj: MaintenanceWindow) -> list[str]:
        return sorted({obj.region.code} if obj.region_id else {n.region.code for n in obj.nodes.all()})

    def get_nodes(self, obj: MaintenanceWindow) -> list[str]:
        return sorted(n.name for n in obj.nodes.all())


class IncidentListsSerializer(serializers.Serializer):
    open = IncidentSerializer(many=True)
    past = IncidentSerializer(many=True, help_text="resolved in the last 30 days")


class StatusOverviewSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField(source="now")
    status = serializers.ChoiceField(choices=["operational", "incident"])
    incidents = IncidentListsSerializer()
    maintenance = MaintenanceWindowSerializer(many=True, help_text="ongoing and upcoming, soonest first")
