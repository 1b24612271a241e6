from django.core.management.base import BaseCommand, CommandError

from hezuo_shenbao.lib.backup import BackupError, create_backup, prune


class Command(BaseCommand):
    help = (
        "备份数据库和全部上传文件：在 OUT_DIR 下新建 hezuo-<日期-时间> 目录，含数据库转储、media.tar.gz "
        "和 manifest.json（各表行数、各文件校验值）。可在系统运行时执行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("out_dir", help="备份存放目录，例如 /srv/hezuo/backups")
        parser.add_argument("--keep", type=int, default=0, help="只保留最新的 N 份备份（0：全部保留）")

    def handle(self, *args, **options):
        try:
            path = create_backup(options["out_dir"])
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"备份完成：{path}")
        if options["keep"]:
            for old in prune(options["out_dir"], options["keep"]):
                self.stdout.write(f"已删除旧备份：{old}")
