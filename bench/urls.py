"""The project's URLs plus /bench/bare/: a Django view that returns a fixed page, the reference
the project's pages are measured against (same gunicorn, settings and middleware)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_http_methods

from walkandtalk.urls import handler400, handler500  # noqa: F401
from walkandtalk.urls import urlpatterns as project_urlpatterns

# A fixed page about the size of the walk list's HTML, built once.
BARE_PAGE = (
    "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Bare</title></head>"
    "<body><main><h1>A fixed page</h1>"
    + "<p>Walk with local female officers through places where you feel unsafe.</p>" * 210
    + "</main></body></html>"
).encode()


@require_http_methods(["GET", "HEAD"])
def bare(request):
    return HttpResponse(BARE_PAGE, content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bare/", bare), *project_urlpatterns]
