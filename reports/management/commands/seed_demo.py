import time

from django.core.management.base import BaseCommand

from employers.demo import DEMO_PASSWORD, ensure_demo_users
from employers.models import Employer
from employers.services import load_reference
from reports import demo


class Command(BaseCommand):
    help = (
        "生成演示县：合水县约3000家用人单位自2024年1月至今的扩面行动（名单导入、确认、比对审核、申报、告知、培训、"
        "现场检查、双随机、季度报送和通报），全部经由系统自身的业务流程；固定随机种子，每次结果相同。"
        "已有数据时不重复生成，只重置演示账号。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--employers", type=int, default=3000, help="单位数（默认3000；测试用较小的数）")
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, **options):
        load_reference()
        # The demo's people exist before its timeline assigns them work.
        users = ensure_demo_users()
        if Employer.objects.exists():
            self.stdout.write(f"已有 {Employer.objects.count()} 家用人单位，跳过生成。")
        else:
            started = time.perf_counter()
            campaign = demo.seed(options["employers"], options["seed"], progress=self.stdout.write)
            if options["verbosity"] > 1:
                for label, seconds in sorted(campaign.timings.items(), key=lambda item: -item[1]):
                    self.stdout.write(f"  {label}：{seconds:.1f} 秒")
            self.stdout.write(
                f"已生成演示县：{Employer.objects.count()} 家用人单位，{campaign.summary()}"
                f"（用时 {time.perf_counter() - started:.0f} 秒）。"
            )
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, full_name, role in users:
            self.stdout.write(f"  {role:<6} {username:<10} {full_name}")
