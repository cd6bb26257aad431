from django.contrib import admin
from django.urls import include, path

from . import pages, personal_data, two_factor, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Staff second factor (issue 8): before the admin and /staff/, which it guards.
    path("staff/two-factor/", two_factor.verify, name="two_factor"),
    path("staff/two-factor/setup/", two_factor.setup, name="two_factor_setup"),
    path("staff/two-factor/qr.svg", two_factor.qr_code, name="two_factor_qr"),
    # Her rights (issue 8): export or erase what is held about an email address.
    path(
        "admin/personal-data/",
        admin.site.admin_view(personal_data.personal_data),
        name="personal_data",
    ),
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

handler400 = "walkandtalk.views.bad_request"
handler500 = "walkandtalk.views.server_error"
