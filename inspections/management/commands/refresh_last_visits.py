from django.core.management.base import BaseCommand

from employers.models import Employer


class Command(BaseCommand):
    help = "按现场记录重算每家单位的“最近走访”和“最早待复查”日期（批量导入或恢复数据后运行）；可重复运行。"

    def handle(self, *args, **options):
        corrected = Employer.objects.refresh_visit_dates()
        if options["verbosity"]:
            self.stdout.write(f"最近走访和待复查日期已核对，更正 {corrected} 家单位。")
