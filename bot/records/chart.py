"""The month at a glance: the daily study rate as bars, 每日一题 accuracy as a line, as a PNG.

matplotlib with the Agg backend (no display) and its object API (no pyplot state), so a
chart can be drawn on a worker thread. Chinese labels use Noto Sans CJK SC, shipped by the
`noto-cjk-sans-otc` package (OFL): no system font is needed, and a missing glyph would be a
bug (tests/test_records.py renders a chart and fails on any "missing from font" warning).
matplotlib is imported on the first chart, not at start-up: it takes a second to import.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot import texts

# The Simplified Chinese face of the Noto Sans CJK collection (face 2 of the .ttc).
CJK_FAMILY = "Noto Sans CJK SC"
# 8 × 4.5 inches at 120 dpi: 960 × 540 pixels, sharp on a phone and well under Telegram's
# 10 MB photo limit (a month's chart is about 40 KB).
FIGURE_INCHES, DPI = (8.0, 4.5), 120
BAR_COLOR, LINE_COLOR = "#c0392b", "#2c3e50"
# A little room above 100%, so a marker of the quiz line at 100% is not cut in half.
Y_TOP = 1.05
# Above 16 days, every second date is labelled, or the labels overlap at this width.
MAX_LABELLED_DAYS = 16

_font_lock = threading.Lock()
_drawable_chars: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ChartDay:
    day: date
    rate: float  # 0..1, the share of the roster that studied that day
    quiz_accuracy: float | None = None  # 0..1, when 每日一题 had answers that day


def cjk_font_path() -> str:
    """The font file matplotlib draws Chinese with."""
    import noto_cjk_sans_otc

    return str(noto_cjk_sans_otc.FONT_PATH)


def _use_cjk_font() -> frozenset[int]:
    """Registers the shipped CJK font with matplotlib once per process; returns the code
    points it can draw."""
    global _drawable_chars
    with _font_lock:
        if not _drawable_chars:
            from matplotlib import font_manager

            font_manager.fontManager.addfont(cjk_font_path())
            face = font_manager.get_font(font_manager.findfont(
                font_manager.FontProperties(family=CJK_FAMILY), fallback_to_default=False))
            _drawable_chars = frozenset(face.get_charmap())
        return _drawable_chars


def drawable(text: str, chars: frozenset[int]) -> str:
    """The text without what the font cannot draw (a group title's emoji would be a box)."""
    return "".join(ch for ch in text if ord(ch) in chars or ch.isspace()).strip()


def render_chart(title: str, month: date, days: Sequence[ChartDay]) -> bytes:
    """The PNG bytes of the month's chart (CPU-bound: call it off the event loop)."""
    chars = _use_cjk_font()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    font = {"family": [CJK_FAMILY]}
    labels = [f"{d.month}-{d.day}" for d in (day.day for day in days)]
    positions = range(len(days))
    axes.bar(positions, [day.rate for day in days], color=BAR_COLOR,
             label=texts.RECORDS_CHART_RATE)
    accuracy = [(i, day.quiz_accuracy) for i, day in enumerate(days)
                if day.quiz_accuracy is not None]
    if accuracy:
        axes.plot([i for i, _ in accuracy], [a for _, a in accuracy], color=LINE_COLOR,
                  marker="o", label=texts.RECORDS_CHART_QUIZ)
    step = 1 if len(days) <= MAX_LABELLED_DAYS else 2
    axes.set_xticks(list(positions)[::step], labels[::step], fontdict=font)
    axes.set_ylim(0, Y_TOP)
    axes.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_title(texts.RECORDS_CHART_TITLE.format(title=drawable(title, chars),
                                                    year=month.year,
                                                    month=month.month), fontdict=font)
    if days:
        axes.legend(prop={"family": CJK_FAMILY}, loc="upper left")
    else:
        axes.text(0.5, 0.5, texts.RECORDS_CHART_EMPTY, transform=axes.transAxes,
                  ha="center", va="center", fontdict=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
