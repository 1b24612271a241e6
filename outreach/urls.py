from django.urls import path

from . import views

app_name = "outreach"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("new/", views.event_create, name="event_create"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
    path("<int:pk>/targets/", views.event_add_targets, name="event_add_targets"),
    path("<int:pk>/notices.docx", views.event_notices, name="event_notices"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("targets/<int:pk>/sign/", views.target_sign, name="target_sign"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("trainings/", views.training_list, name="training_list"),
    path("trainings/new/", views.training_create, name="training_create"),
    path("trainings/<int:pk>/", views.training_detail, name="training_detail"),
]
