from django.core.checks import Warning, register


@register()
def chinese_font_installed(app_configs, **kwargs):
    # Imported here: matplotlib is heavy, and only the processes that draw charts need it loaded.
    from . import charts

    if charts.cjk_font():
        return []
    return [
        Warning(
            "没有找到中文字体：季度通报 Word 文档将不插入图表。",
            # matplotlib lists fonts once and caches the list: a font installed later is seen only
            # after that cache is gone.
            hint="安装 fonts-noto-cjk（Debian/Ubuntu: apt-get install fonts-noto-cjk），删除运行服务的用户的"
            " matplotlib 字体缓存（~/.cache/matplotlib/fontlist-*.json），再重启服务。",
            id="reports.W001",
        )
    ]
