from django.core.management.base import BaseCommand

from inspections import supervision


class Command(BaseCommand):
    help = (
        "重算所有在管单位的分级分类（综合风险类别、下次应检查日期、申报质量问题）和已存的过去日期的申报质量"
        "（各季度末和近期查看过的日期，久未查看的日期删除）；可重复运行，只改有变化的单位和日期。"
    )

    def handle(self, *args, **options):
        changed = supervision.refresh()
        days = supervision.refresh_quality_snapshots()
        if options["verbosity"]:
            self.stdout.write(f"分级分类已重算，{changed} 家单位有变化；{days} 个日期的申报质量有变化。")
