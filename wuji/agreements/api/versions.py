"""Every published version of the user service agreement over the API (issue 7 coverage, decision 0044), as the
portal's agreement pages list them. Public, like those pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny

from wuji.api.pagination import WholeList
from wuji.api.views import error_responses

from .. import services
from ..models import AgreementVersion
from .serializers import AgreementVersionSerializer


class AgreementVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Published agreement versions, newest effective date first; one version by its `version` label."""

    serializer_class = AgreementVersionSerializer
    queryset = AgreementVersion.objects.none()
    permission_classes = [AllowAny]
    lookup_field = "version"
    lookup_value_regex = r"[^/]+"
    pagination_class = WholeList  # a handful of versions, newest first
    filter_backends = []

    def get_queryset(self):
        return services.versions()

    @extend_schema(responses={200: AgreementVersionSerializer, **error_responses(404)})
    def retrieve(self, request, *args, **kwargs):
        """One published version (its full text)."""
        return super().retrieve(request, *args, **kwargs)
