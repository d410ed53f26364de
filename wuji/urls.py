from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from wuji.api.docs import ApiDocsView
from wuji.network import views as network_views

admin.site.site_header = "武极云运营控制台 Wuji Cloud console"
admin.site.site_title = "武极云运营控制台"

urlpatterns = [
    path("console/", admin.site.urls),
    path("api/v1/", include("wuji.api.urls")),
    # issue 7: schema — the interactive API documentation (Swagger UI, vendored assets).
    path("api/docs/", ApiDocsView.as_view(), name="api_docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    # issue 5: network — the edge fetches the ICP allow-list with its shared token.
    path("edge/icp-allowlist.json", network_views.icp_allowlist, name="edge_icp_allowlist"),
    # Sign-up is the portal's own page (agreement acceptance); the rest of sign-in is allauth's.
    path("accounts/signup/", RedirectView.as_view(pattern_name="portal:register", query_string=True)),
    path("accounts/", include("allauth.urls")),
    # issue 6: status — announcements, the public status page and /status.json
    path("", include("wuji.status.urls")),
    # issue 6: cases — the public complaint form and the owner's abuse cases.
    path("", include("wuji.abuse.urls")),
    path("", include("wuji.portal.urls")),
]

# A path under /api/ that matches no route answers with the API's JSON error body.
handler404 = "wuji.api.errors.page_not_found"
