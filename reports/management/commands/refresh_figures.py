from django.core.management.base import BaseCommand

from reports import services


class Command(BaseCommand):
    help = "重算并保存自2024年第一季度以来每个季度的统计数字（调度看板读取）；可重复运行，结果相同。"

    def handle(self, *args, **options):
        stored = services.refresh_figures()
        if options["verbosity"]:
            self.stdout.write(f"已重算并保存 {stored} 个季度的统计数字。")
