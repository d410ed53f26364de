from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "武极云运营控制台 Wuji Cloud console"
admin.site.site_title = "武极云运营控制台"

urlpatterns = [
    path("console/", admin.site.urls),
    path("api/v1/", include("wuji.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("wuji.portal.urls")),
]
