from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/new/", views.bulletin_create, name="bulletin_create"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/edit/", views.bulletin_edit, name="bulletin_edit"),
    path("bulletins/<int:pk>/issue/", views.bulletin_issue, name="bulletin_issue"),
    path("bulletins/problems/<int:pk>/resolve/", views.problem_resolve, name="problem_resolve"),
    path("bulletins/<int:pk>/progress/", views.bulletin_progress, name="bulletin_progress"),
    path("bulletins/<int:pk>/<str:kind>/", views.bulletin_download, name="bulletin_download"),
    path("submissions/", views.submission_list, name="submissions"),
    path("submissions/new/", views.submission_create, name="submission_create"),
    path("submissions/<int:pk>/download/", views.submission_download, name="submission_download"),
    path("dossiers/", views.dossier_sample, name="dossier_sample"),
    path("dossiers/<int:pk>/", views.dossier, name="dossier"),
    path("dossiers/files/<int:pk>/", views.dossier_download, name="dossier_download"),
    path("exports/", views.export_list, name="exports"),
    path("exports/new/", views.export_create, name="export_create"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("jobs/<str:kind>/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<str:kind>/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
]
