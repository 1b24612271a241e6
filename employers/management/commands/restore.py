from django.core.management.base import BaseCommand, CommandError

from hezuo_shenbao.lib.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "从 backup 命令生成的目录恢复数据库和上传文件，并按 manifest.json 核对行数和文件。"
        "数据库已有数据时须加 --yes。恢复前请停止 web、worker 和 beat 服务。"
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="备份目录，例如 /srv/hezuo/backups/hezuo-20261125-020000")
        parser.add_argument("--yes", action="store_true", help="确认覆盖当前数据库中的全部数据")

    def handle(self, *args, **options):
        try:
            result = restore_backup(options["directory"], confirmed=options["yes"])
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            f"恢复完成并已核对：{result['tables']} 张表共 {result['rows']} 行，{result['files']} 个上传文件。"
        )
        if result["kept_aside"]:
            self.stdout.write(f"恢复前已有的上传文件已移到 {result['kept_aside']}，确认无误后可删除。")
