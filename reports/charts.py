"""Bar charts drawn with matplotlib for the Word bulletin, as PNG bytes.

Labels are Chinese, so a CJK font must be installed (Debian: fonts-noto-cjk); without one matplotlib
would draw empty boxes. cjk_font() finds one, and the bulletin leaves its charts out when there is none
(a system check warns the administrator).
"""

import io
from functools import lru_cache

from matplotlib import font_manager
from matplotlib.figure import Figure

# Sans faces first: chart labels are small, and 公文 body fonts (仿宋) are thin on screen.
CJK_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "SimHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
]
BAR_COLOUR = "#2f6fb0"
TARGET_COLOUR = "#c0392b"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def rate_chart(title: str, labels: list[str], rates: list[float], *, reference: float | None = None) -> bytes:
    """Horizontal bars of 申报率 (%), first label on top; `reference` draws a dashed line (e.g. the county rate)."""
    font = cjk_font()
    height = 1.2 + 0.32 * len(labels)
    figure = Figure(figsize=(6.4, height), dpi=150, layout="constrained")
    axes = figure.add_subplot()
    positions = range(len(labels))
    bars = axes.barh(positions, rates, color=BAR_COLOUR, height=0.6)
    axes.bar_label(bars, labels=[f"{r:.1f}%" for r in rates], padding=3, fontsize=8, family=font)
    axes.set_yticks(positions, labels, family=font, fontsize=9)
    axes.invert_yaxis()
    axes.set_xlim(0, 110)
    axes.set_xticks(range(0, 101, 20), [f"{x}%" for x in range(0, 101, 20)], fontsize=8)
    axes.set_title(title, family=font, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    if reference is not None:
        axes.axvline(
            reference, color=TARGET_COLOUR, linestyle="--", linewidth=1, zorder=0.5, label=f"全县 {reference:.1f}%"
        )
        axes.legend(loc="lower right", prop={"family": font, "size": 8}, frameon=False)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
