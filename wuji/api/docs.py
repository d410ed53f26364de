"""The interactive API documentation at /api/docs/ (decision 0045): Swagger UI from the vendored sidecar
package, no CDN. The split view serves its init script as a separate file, so the page runs under the
platform's `script-src 'self'`; the page's own styles are a static file instead of drf-spectacular's inline
<style>. Public, like the schema it reads (/api/v1/schema/)."""

from django.urls import reverse_lazy
from drf_spectacular.views import SpectacularSwaggerSplitView

DOCS_PATH = "/api/docs/"


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/docs.html"
    url = reverse_lazy("api:schema")
    title = "武极云 API 文档 · Wuji Cloud API"
