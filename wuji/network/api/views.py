"""Public IPs over the API (issue 7 coverage, decision 0044): the customer's addresses, and one server's public IP
card with a blackhole's reason and end. Binding and unbinding are the server's `bind-ip` / `unbind-ip` actions."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuji.api.views import error_responses
from wuji.compute import services as compute
from wuji.network import services as network
from wuji.network.models import IpAllocation

from .filtersets import PublicIpFilterSet
from .serializers import PublicIpSerializer, ServerIpSerializer


class PublicIpListView(generics.ListAPIView):
    """The public IPv4 addresses the caller's servers hold now, newest first."""

    serializer_class = PublicIpSerializer
    queryset = IpAllocation.objects.none()
    filterset_class = PublicIpFilterSet
    ordering_fields = ["allocated_at"]
    ordering = ("-allocated_at", "-id")

    def get_queryset(self):
        return network.addresses_of(self.request.user)


class ServerIpView(APIView):
    @extend_schema(responses={200: ServerIpSerializer, **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        """The server's public IP (公网 IP): address, state, last apply error, an active blackhole's reason and
        expected end, and whether bind / unbind would be accepted now."""
        server = get_object_or_404(compute.servers_of(request.user), pk=pk)
        state = network.ip_status(server)
        allocation = state["allocation"]
        data = {
            "server": server.pk,
            "address": allocation.address if allocation else None,
            "state": allocation.state if allocation else None,
            "allocated_at": allocation.allocated_at if allocation else None,
            "last_error": allocation.last_error if allocation else "",
            "blackhole": state["blackhole"],
            "can_bind": state["can_bind"],
            "can_unbind": state["can_unbind"],
        }
        return Response(ServerIpSerializer(data).data)
