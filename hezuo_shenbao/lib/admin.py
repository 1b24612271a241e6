"""What every admin page of the apps is built on, so the admin writes nothing the app would refuse."""

from django import forms
from django.contrib import admin

from .forms import CleanInputMixin


class CleanModelForm(CleanInputMixin, forms.ModelForm):
    """The admin's forms get the app forms' sanitiser: control characters dropped, lengths and numbers bounded."""


class CleanFormMixin:
    form = CleanModelForm


class ModelAdmin(CleanFormMixin, admin.ModelAdmin):
    pass


class TabularInline(CleanFormMixin, admin.TabularInline):
    pass
