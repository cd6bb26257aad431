from django.conf import settings


def site(request):
    return {"exit_url": settings.EXIT_URL}
