from django.conf import settings


def platform(request):
    return {"SANDBOX_PAYMENTS": settings.WUJI_SANDBOX_PAYMENTS}
