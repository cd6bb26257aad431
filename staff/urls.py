from django.urls import path

from . import views

app_name = "staff"

# Included at "staff/".
urlpatterns = [
    path("", views.staff_home, name="home"),
    path("walks/<uuid:code>/briefing/", views.briefing, name="briefing"),
    path("walks/<uuid:code>/debrief/", views.debrief, name="debrief"),
]
