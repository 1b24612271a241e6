from django.core.management.base import BaseCommand

from employers.demo import DEMO_PASSWORD, ensure_demo_users, seed_county
from employers.models import Employer
from employers.services import load_reference
from matching.demo import seed_evidence


class Command(BaseCommand):
    help = "生成演示数据：合水县约3000家用人单位、体检和监测数据，及每个角色一个演示账号；已有数据时不重复生成。"

    def add_arguments(self, parser):
        parser.add_argument("--employers", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, **options):
        load_reference()
        if Employer.objects.exists():
            self.stdout.write(f"已有 {Employer.objects.count()} 家用人单位，跳过生成。")
        else:
            created = seed_county(options["employers"], options["seed"])
            self.stdout.write(f"已生成 {created} 家用人单位。")
            # Evidence is imported like real files, through matching's pipeline.
            records = seed_evidence(options["seed"])
            self.stdout.write(f"已导入演示体检、监测数据 {records} 条（按单位汇总）。")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, full_name, role in ensure_demo_users():
            self.stdout.write(f"  {role:<6} {username:<10} {full_name}")
