from django.urls import path

from . import views

app_name = "reports"

# Included at "reports/".
urlpatterns = [
    path("", views.report, name="page"),
    path("concerns.csv", views.report_csv, name="csv"),
]
