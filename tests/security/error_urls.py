"""The site's URLs plus one view that fails, to see the 500 page with DEBUG off."""

from django.urls import path

from walkandtalk.urls import urlpatterns as site_urlpatterns


def broken(request):
    raise RuntimeError("password=hunter2 for amira.begum@example.org in /work/main/settings.py")


urlpatterns = [path("broken/", broken), *site_urlpatterns]

handler500 = "walkandtalk.views.server_error"
