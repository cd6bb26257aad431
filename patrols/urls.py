from django.urls import path

from . import views

app_name = "patrols"

# Included at "staff/": only the paths below are ours; /staff/walks/<code>/debrief/ is in
# concerns.urls.
urlpatterns = [
    path("", views.staff_home, name="staff_home"),
]
