"""The site's addresses: the public site, the staff pages and the admin, the reports, and the
two-factor and personal-data pages the admin reaches. Each app's addresses are included by
name, so the project's ground imports none of them (docs/architecture.md)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import metrics, two_factor, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # The staff second factor: before the admin and /staff/, which it guards.
    path("staff/two-factor/", two_factor.verify, name="two_factor"),
    path("staff/two-factor/setup/", two_factor.setup, name="two_factor_setup"),
    path("staff/two-factor/qr.svg", two_factor.qr_code, name="two_factor_qr"),
    # Her rights: export or erase what is held about an email address.
    path("admin/", include("privacy.urls")),
    path("admin/", admin.site.urls),
    path("staff/", include("staff.urls")),
    path("reports/", include("reports.urls")),
    path("", include("website.urls")),
]

if settings.DEBUG:
    # The demo's sent mail (walkandtalk/devmail.py): not routed at all in production.
    from . import devmail

    urlpatterns = [
        path("dev/mail/", devmail.mail_list, name="dev_mail"),
        path("dev/mail/<str:name>", devmail.mail_file, name="dev_mail_file"),
        *urlpatterns,
    ]

handler400 = "walkandtalk.views.bad_request"
handler500 = "walkandtalk.views.server_error"
