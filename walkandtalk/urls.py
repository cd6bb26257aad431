from django.contrib import admin
from django.urls import include, path

from . import pages, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("about/", pages.about, name="about"),
    path("what-to-expect/", pages.what_to_expect, name="what_to_expect"),
    path("privacy/", pages.privacy, name="privacy"),
    path("accessibility/", pages.accessibility, name="accessibility"),
    path("help/", pages.help_page, name="help"),
    path("staff/", include("patrols.urls")),
    path("", include("bookings.urls")),
    path("", include("concerns.urls")),
]

handler500 = "walkandtalk.views.server_error"
