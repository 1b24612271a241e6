import argparse
import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from employers.choices import SourceKind
from matching import services
from matching.models import ImportBatch, ImportIssue


def _day(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"名单截至日期「{text}」应写作 YYYY-MM-DD，如 2024-12-31") from None


class Command(BaseCommand):
    help = (
        "导入一个名单或导出文件（register/department/enforcement/exam/monitoring/radiation/declaration）："
        "先全量检查，再原子写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[k.value for k in services.IMPORT_KINDS])
        parser.add_argument("file")
        parser.add_argument("--department", default="", help="部门名单的来源部门，如 市场监管")
        parser.add_argument(
            "--as-of",
            type=_day,
            default=None,
            help="名单截至日期 YYYY-MM-DD：这份名单描述的是哪一天（默认今天），季度统计按这一天计入",
        )
        parser.add_argument("--skip-rejected", action="store_true", help="只导入有效行，被拒绝的行留在报告里")
        parser.add_argument("--again", action="store_true", help="同一文件已导入过时仍然导入")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--defer-linking", action="store_true", help="只导入，留待之后运行 crossref 统一比对")

    def handle(self, kind, file, department, as_of, skip_rejected, again, dry_run, defer_linking, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        try:
            batch = services.create_batch(path, path.name, SourceKind(kind), department=department, as_of=as_of)
        except ValueError as error:
            raise CommandError(str(error)) from error
        batch = services.check_batch(batch.pk)
        if batch.status == ImportBatch.Status.FAILED:
            batch.delete()
            raise CommandError(batch.message)
        self._report(batch)
        if dry_run:
            services.cancel_batch(batch)
            return
        try:
            batch = services.commit_batch(
                batch.pk, accept_rejected=skip_rejected, accept_repeat=again, link=not defer_linking
            )
        except services.NotReady as refusal:
            services.cancel_batch(batch)
            raise CommandError(f"{path.name}：{refusal}（未写入任何数据）") from refusal
        if batch.status != ImportBatch.Status.DONE:
            raise CommandError(batch.message)
        linking = batch.summary.get("linking", {})
        self.stdout.write(
            f"已导入 {batch.summary['imported']} 条来源记录（批次 {batch.pk}）；"
            f"比对：关联 {linking.get('linked', 0)}，待审核 {linking.get('review', 0)}，"
            f"新发现单位 {linking.get('new_employers', 0)}"
        )

    def _report(self, batch):
        s = batch.summary
        self.stdout.write(
            f"{batch.file_name}：读取 {s['rows']} 行（表头在第 {batch.header_row} 行），"
            f"新增 {s['new']}，更新 {s['updated']}，匹配 {s['matched']}，"
            f"重复 {s['duplicate']}，拒绝 {s['error']}，提示 {s['warning']}"
        )
        if s.get("repeat_of"):
            self.stdout.write(self.style.WARNING(f"注意：同一文件已于批次 {s['repeat_of']} 导入过"))
        for number in s.get("totals", []):
            self.stdout.write(f"  第 {number} 行：合计行，不是用人单位，已跳过")
        for issue in batch.issues.exclude(level=ImportIssue.Level.WARNING)[:200]:
            self.stdout.write(f"  第 {issue.row_number} 行 {issue.column}：{issue.message}")
