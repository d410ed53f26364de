"""Pay-as-you-go unit prices over the API (issue 7 coverage, decision 0044): what the portal's pay-as-you-go
page lists, from the same catalogue function."""

from rest_framework import mixins, serializers, viewsets

from wuji.catalog import services as catalog
from wuji.catalog.models import HourlyPrice

from .pagination import WholeList


class HourlyPriceSerializer(serializers.ModelSerializer):
    """Unit prices in 元 per hour (decimal strings, 8 places): `stopped_per_hour` is charged while the server is
    stopped (0 = not charged, equal to running = charged in full)."""

    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = HourlyPrice
        fields = ["plan", "region", "running_per_hour", "stopped_per_hour", "effective_from"]
        read_only_fields = fields


class HourlyPriceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Pay-as-you-go (按量付费) prices in force now for plans and regions on sale, smallest plan first."""

    serializer_class = HourlyPriceSerializer
    queryset = HourlyPrice.objects.none()
    pagination_class = WholeList  # computed in Python (the latest row per plan and region), short by nature
    filter_backends = []

    def get_queryset(self):
        return catalog.hourly_prices_in_force()
