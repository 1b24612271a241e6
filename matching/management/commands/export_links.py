from django.core.management.base import BaseCommand

from hezuo_shenbao.lib.xlsx import write_csv
from matching.review import LINK_HEADERS, link_rows


class Command(BaseCommand):
    help = "导出每一行来源数据关联到的用人单位（UTF-8 CSV）：kind,file,row,employer_id,method,score …"

    def add_arguments(self, parser):
        parser.add_argument("out")

    def handle(self, out, **options):
        count = write_csv(out, LINK_HEADERS, link_rows())
        self.stdout.write(f"已写出 {count} 行到 {out}")
