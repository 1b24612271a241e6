from django.core.checks import Warning, register

from . import charts


@register()
def chinese_font_installed(app_configs, **kwargs):
    if charts.cjk_font():
        return []
    return [
        Warning(
            "没有找到中文字体：季度通报 Word 文档将不插入图表。",
            hint="安装 fonts-noto-cjk（Debian/Ubuntu: apt-get install fonts-noto-cjk）后重启服务。",
            id="reports.W001",
        )
    ]
