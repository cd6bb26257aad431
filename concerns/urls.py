from django.urls import path

from . import views

app_name = "concerns"

urlpatterns = [
    # --- After the walk (issue 6): debrief, survey, "you said, we did" ---
    path("staff/walks/<uuid:code>/debrief/", views.debrief, name="debrief"),
    path("feedback/<str:token>/", views.feedback, name="feedback"),
    path("you-said-we-did/", views.you_said_we_did, name="you_said_we_did"),
    # --- end of issue 6 ---
    # --- Commander reports (issue 7) ---
    path("reports/", views.report, name="reports"),
    path("reports/concerns.csv", views.report_csv, name="reports_csv"),
    # --- end of issue 7 ---
]
