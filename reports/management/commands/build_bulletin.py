import shutil
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports import services
from reports.forms import QuarterField
from reports.models import Bulletin


class Command(BaseCommand):
    help = (
        "生成某季度的调度通报草稿（新增一个版本，旧版本保留），并把 .docx/.xlsx（及 PDF）写入 --out 目录；"
        "印发在通报页面进行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("quarter", nargs="?", help="季度，如 2025Q3；默认上一季度")
        parser.add_argument("--out", help="把生成的文件另存到此目录")
        parser.add_argument("--no-pdf", action="store_true", help="不转换 PDF")

    def handle(self, quarter=None, out=None, no_pdf=False, **options):
        try:
            period = QuarterField().clean(quarter) if quarter else services.last_quarter()
        except ValidationError as exc:
            raise CommandError(exc.messages[0])
        bulletin = services.create_bulletin(period)
        bulletin = services.run_bulletin(bulletin.pk, pdf=not no_pdf)
        if bulletin.status == Bulletin.Status.FAILED:
            raise CommandError(f"{bulletin}{bulletin.message}")
        self.stdout.write(f"{bulletin}：{bulletin.message}")
        if out:
            folder = Path(out)
            folder.mkdir(parents=True, exist_ok=True)
            for field in (bulletin.docx, bulletin.xlsx, bulletin.annex, bulletin.pdf):
                if field:
                    target = folder / Path(field.name).name
                    with field.open("rb") as source, open(target, "wb") as dest:
                        shutil.copyfileobj(source, dest)
                    self.stdout.write(str(target))
