from django.core.management.base import BaseCommand

from employers.models import Employer
from hezuo_shenbao.lib.xlsx import write_csv, write_workbook
from matching.review import UNDECLARED_HEADERS, undeclared, undeclared_rows


class Command(BaseCommand):
    help = (
        "导出有体检、监测或放射检测记录但未申报的单位及其证据（.csv 或 .xlsx）；"
        "疑似已申报的单位列在其后，末列为相近的已申报单位编号。"
    )

    def add_arguments(self, parser):
        parser.add_argument("out")

    def handle(self, out, **options):
        rows = undeclared_rows(undeclared(), Employer.objects.suspected_declared())
        if out.lower().endswith(".xlsx"):
            count = write_workbook(out, [("未申报单位", UNDECLARED_HEADERS, rows)])
        else:
            count = write_csv(out, UNDECLARED_HEADERS, rows)
        self.stdout.write(f"已写出 {count} 家单位到 {out}")
