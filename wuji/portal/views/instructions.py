"""The customer's instruction log (clause 3.1) and its CSV export."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wuji.audit import services as audit

from ..http import paginate


@login_required
def instruction_list(request):
    return render(request, "portal/instructions.html", {
        "page": paginate(request, audit.instructions_for(request.user)),
    })


@login_required
def instruction_csv(request):
    from wuji.api.csv_export import write_instructions_csv  # one CSV format for the portal and the API

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"wuji-instructions-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    write_instructions_csv(audit.instructions_for(request.user), response)
    return response
