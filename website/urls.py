from django.urls import path

from . import pages, views

app_name = "website"

urlpatterns = [
    path("", pages.home, name="home"),
    path("about/", pages.about, name="about"),
    path("what-to-expect/", pages.what_to_expect, name="what_to_expect"),
    path("privacy/", pages.privacy, name="privacy"),
    path("accessibility/", pages.accessibility, name="accessibility"),
    path("help/", pages.help_page, name="help"),
    path("walks/", views.walk_list, name="walk_list"),
    path("walks/<uuid:code>/", views.walk_detail, name="walk_detail"),
    path("walks/<uuid:code>/book/", views.book, name="book"),
    path("walks/<uuid:code>/booked/", views.booked, name="booked"),
    path("bookings/manage/<str:token>/", views.manage, name="manage"),
    path("bookings/manage/<str:token>/walk.ics", views.manage_calendar, name="manage_calendar"),
    path("bookings/lost-link/", views.lost_link, name="lost_link"),
    path("bookings/lost-link/sent/", views.lost_link_sent, name="lost_link_sent"),
    path("request/", views.request_walk, name="request_walk"),
    path("request/received/", views.request_received, name="request_received"),
    path("requests/<str:token>/", views.request_status, name="request_status"),
    path("feedback/<str:token>/", views.feedback, name="feedback"),
    path("you-said-we-did/", views.you_said_we_did, name="you_said_we_did"),
    path("partners/<str:token>/", views.partner_referral, name="partner_referral"),
]
