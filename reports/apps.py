from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "调度通报"

    def ready(self):
        from . import checks  # noqa: F401  registers the font check
