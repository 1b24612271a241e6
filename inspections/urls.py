from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.work_list, name="work_list"),
    path("route/", views.route_sheet, name="route_sheet"),
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/confirm/", views.visit_confirm, name="visit_confirm"),
    path("visits/<int:pk>/photos/<int:photo_pk>/", views.visit_photo, name="visit_photo"),
    path("visits/<int:pk>/record.docx", views.visit_docx, name="visit_docx"),
    path("assignments/", views.assignments, name="assignments"),
    path("assignments/<int:pk>/delete/", views.assignment_delete, name="assignment_delete"),
    path("samples/", views.samples, name="samples"),
    path("samples/<int:pk>/", views.sample_detail, name="sample_detail"),
    path("supervision/", views.supervision_list, name="supervision"),
    path("quality/", views.quality_overview, name="quality"),
    path("notice/<int:employer_pk>.docx", views.notice_docx, name="notice_docx"),
    path("enforcement/", views.enforcement_list, name="enforcement_list"),
    path("enforcement/new/", views.enforcement_create, name="enforcement_create"),
    path("enforcement/<int:pk>/", views.enforcement_detail, name="enforcement_detail"),
    path("enforcement/<int:pk>/correct/", views.enforcement_correct, name="enforcement_correct"),
    path("enforcement/<int:pk>/files/<int:file_pk>/", views.enforcement_file, name="enforcement_file"),
]
