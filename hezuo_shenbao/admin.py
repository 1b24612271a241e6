"""The two admin sites.

/admin/ is the county's: users, roles and the register's data. The machinery underneath (login
throttling by django-axes, django-celery-beat's schedules, which beat rewrites from settings on every
start) moves to /admin/system/ (系统维护), which only a superuser may open: a county administrator
has nothing to do there, and its English, technical sections only confuse."""

from django.contrib import admin

INFRASTRUCTURE_APPS = {"axes", "django_celery_beat"}


class SystemSite(admin.AdminSite):
    site_header = "系统维护（仅超级管理员）"
    site_title = "系统维护"
    index_title = "登录限制与定时任务"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser


system_site = SystemSite(name="system")


def configure():
    """Called once from the URL configuration, after every app has registered its models."""
    admin.site.site_header = "合水县职业病危害项目申报扩面工作台"
    admin.site.site_title = "申报扩面工作台"
    admin.site.index_template = "admin/county_index.html"
    for model, model_admin in list(admin.site._registry.items()):
        if model._meta.app_label in INFRASTRUCTURE_APPS:
            admin.site.unregister(model)
            system_site.register(model, type(model_admin))
