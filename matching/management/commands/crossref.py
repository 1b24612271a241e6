from django.core.management.base import BaseCommand

from matching import crossref


class Command(BaseCommand):
    help = "数据比对：把尚未关联或待审核的来源记录关联到用人单位。可重复运行，结果相同。"

    def handle(self, **options):
        run = crossref.run_in_process()
        s = run.summary
        self.stdout.write(
            f"比对 {run.records_total} 条记录：关联 {s['linked']}，待审核 {s['review']}，"
            f"新记录 {s['new_records']}（新发现单位 {s['new_employers']}）"
        )
