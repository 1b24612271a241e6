from django.urls import path

from . import views

app_name = "employers"
urlpatterns = [
    path("", views.employer_list, name="list"),
    path("new/", views.employer_create, name="create"),
    path("confirm/", views.employer_confirm_many, name="confirm_many"),
    path("<int:pk>/", views.employer_detail, name="detail"),
    path("<int:pk>/edit/", views.employer_edit, name="edit"),
    path("<int:pk>/register/", views.employer_register, name="register"),
    path("<int:pk>/risk/", views.employer_risk, name="risk"),
    path("<int:pk>/city-filing/", views.employer_city_filing, name="city_filing"),
]
