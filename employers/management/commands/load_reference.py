from django.core.management.base import BaseCommand

from employers.services import load_reference


class Command(BaseCommand):
    help = "载入参考数据（乡镇、国民经济行业分类及风险分类、职业病危害因素）；可重复运行。"

    def handle(self, *args, **options):
        counts = load_reference()
        self.stdout.write("参考数据已载入：" + "，".join(f"{k} {v}" for k, v in counts.items()))
