"""Her rights, in the admin: export or erase what is held about an email address. No namespace:
the admin's index links to it by its plain name."""

from django.contrib import admin
from django.urls import path

from .views import personal_data

urlpatterns = [
    path("personal-data/", admin.site.admin_view(personal_data), name="personal_data"),
]
