"""Bar charts drawn with matplotlib for the Word bulletin, as PNG bytes.

Labels are Chinese. The project ships its own CJK font (reports/fonts, Noto Sans CJK SC subset to GB 2312,
OFL) and registers it with matplotlib by file path, so the charts never depend on what the machine has
installed or on matplotlib's font cache (built once, blind to fonts installed after).
"""

import io
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.figure import Figure

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSansCJKsc-Regular-GB2312.otf"
BAR_COLOUR = "#2f6fb0"
TARGET_COLOUR = "#c0392b"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The shipped font's family name, registered with matplotlib on first use."""
    font_manager.fontManager.addfont(str(FONT_FILE))
    return font_manager.FontProperties(fname=str(FONT_FILE)).get_name()


def rate_chart(title: str, labels: list[str], rates: list[float], *, reference: float | None = None) -> bytes:
    """Horizontal bars of 申报率 (%), first label on top; `reference` draws a dashed line (e.g. the county rate)."""
    return _rate_chart(title, tuple(labels), tuple(rates), reference)


# Issuing a bulletin writes its files again, with the 文号, from the figures the draft was drawn from:
# the same charts, kept from the draft's rendering rather than drawn twice.
@lru_cache(maxsize=8)
def _rate_chart(title: str, labels: tuple, rates: tuple, reference: float | None) -> bytes:
    font = cjk_font()
    height = 1.1 + 0.26 * len(labels)  # twelve townships: 8 cm at 12 cm wide, a third of the page
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
