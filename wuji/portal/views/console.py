"""The server's VNC console page (远程控制台): noVNC in the page, through the console proxy.

GET shows the page with a button; POST issues a single-use token (an instruction) and renders the screen,
whose script connects at once. Only the owner reaches the page: anyone else's server is 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from wuji.audit.choices import Channel
from wuji.compute import console
from wuji.compute import services as compute

from ..http import client_ip


@login_required
@never_cache  # the page carries a token
@require_http_methods(["GET", "POST"])
def server_console(request, pk: int):
    server = get_object_or_404(compute.servers_of(request.user), pk=pk)
    issued = None
    if request.method == "POST":
        try:
            issued = console.issue_token(request.user, server, channel=Channel.WEB, ip=client_ip(request))
        except console.ConsoleRefused as exc:
            messages.error(request, str(exc))
            return redirect("portal:server", pk=server.pk)
    return render(request, "portal/server_console.html", {"server": server, "issued": issued})
