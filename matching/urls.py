from django.urls import path

from . import views

app_name = "matching"

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.batch_detail, name="batch"),
    path("imports/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("imports/<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("imports/<int:pk>/retry/", views.batch_retry, name="retry"),
    path("imports/<int:pk>/cancel/", views.batch_cancel, name="cancel"),
    path("imports/<int:pk>/rejected.xlsx", views.batch_issues_export, name="rejected"),
    path("imports/template/<str:kind>/", views.template_download, name="template"),
    path("review/", views.review_queue, name="review"),
    path("review/<int:pk>/", views.review_record, name="review_record"),
    path("review/bulk/", views.review_bulk, name="review_bulk"),
    path("review/undo/<int:pk>/", views.review_undo, name="review_undo"),
    path("crossref/", views.crossref_start, name="crossref"),
    path("crossref/<int:pk>/", views.crossref_run, name="run"),
    path("crossref/<int:pk>/cancel/", views.crossref_cancel, name="run_cancel"),
    path("undeclared/", views.undeclared, name="undeclared"),
    path("undeclared/lookalike/<int:pk>/", views.lookalike_decide, name="lookalike"),
    path("duplicates/", views.duplicate_queue, name="duplicates"),
    path("duplicates/<int:pk>/", views.duplicate_decide, name="duplicate_decide"),
    path("employers/<int:pk>/merge/", views.employer_merge, name="merge"),
    path("employers/<int:pk>/split/", views.employer_split, name="split"),
]
