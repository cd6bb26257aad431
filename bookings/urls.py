from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("walks/", views.walk_list, name="walk_list"),
    path("walks/<uuid:code>/", views.walk_detail, name="walk_detail"),
    path("walks/<uuid:code>/book/", views.book, name="book"),
    path("walks/<uuid:code>/booked/", views.booked, name="booked"),
    path("bookings/manage/<str:token>/", views.manage, name="manage"),
    path("bookings/lost-link/", views.lost_link, name="lost_link"),
    path("bookings/lost-link/sent/", views.lost_link_sent, name="lost_link_sent"),
    path("request/", views.request_walk, name="request_walk"),
    path("request/received/", views.request_received, name="request_received"),
]
