from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, on the project's site (walkandtalk/admin_site.py)."""

    default_site = "walkandtalk.admin_site.AdminSite"
