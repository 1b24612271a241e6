from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EmployersConfig(AppConfig):
    name = "employers"
    verbose_name = "用人单位数据库"

    def ready(self):
        from hezuo_shenbao.roles import sync_roles

        # Runs after every app's permissions exist, so every role gets all of its permissions.
        post_migrate.connect(sync_roles, dispatch_uid="sync_roles")
