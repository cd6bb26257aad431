from django.urls import path

from . import views

app_name = "staff"

# Included at "staff/".
urlpatterns = [
    path("", views.staff_home, name="home"),
    path("walks/<uuid:code>/briefing/", views.briefing, name="briefing"),
    path("walks/<uuid:code>/debrief/", views.debrief, name="debrief"),
    path("walks/<uuid:code>/started/", views.walk_started, name="walk_started"),
    path("walks/<uuid:code>/finished/", views.walk_finished, name="walk_finished"),
    # Her calendar feed: no login (a phone's calendar cannot sign in), the token is the key.
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
]
