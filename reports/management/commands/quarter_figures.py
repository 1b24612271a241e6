import json

from django.core.management.base import BaseCommand, CommandError

from reports.models import Quarter
from reports.stats import pct, quarter_figures


def _line(share):
    return (
        f"应申报 {share['included']} 家，已申报 {share['declared']} 家（有效申报 {share['declared_current']}，"
        f"曾申报 {share['declared_ever']}），未申报 {share['undeclared']} 家，申报率 {pct(share['rate'])}"
    )


class Command(BaseCommand):
    help = "打印某季度的统计数字（两个行动目标、全县合计、各乡镇），与调度看板和通报同一口径。"

    def add_arguments(self, parser):
        parser.add_argument("quarter", help="季度，如 2024Q4")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="输出完整的 JSON（看板和通报读取的同一份数字）"
        )

    def handle(self, quarter, as_json=False, **options):
        try:
            period = Quarter.parse(quarter)
        except ValueError as exc:
            raise CommandError(str(exc))
        figures = quarter_figures(period)
        if as_json:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
            return
        out = self.stdout.write
        note = "（阶段数据）" if figures["provisional"] else ""
        out(f"{figures['label']}{note}，截至 {figures['as_of']}；已申报按{figures['declared_basis_label']}计")
        register, left = figures["register"]["total"], figures["left"]["count"]
        out(f"名单内单位 {register} 家；已纳入但不计入统计（注销、吊销、迁出、撤销或停产超过6个月）{left} 家")
        out(f"全县：{_line(figures['overall'])}")
        for target in figures["targets"].values():
            out(f"{target['title']}：{_line(target)}")
            for unplaced in target["unplaced"]:
                out(f"  其中{unplaced['label']} {unplaced['included']} 家（未计入上行）")
        out("各乡镇：")
        for township in figures["by_township"]:
            rank = f"第{township['rank']}名 " if township["rank"] else ""
            out(f"  {rank}{township['label']}：{_line(township)}")
