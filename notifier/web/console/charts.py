"""Charts drawn on the server as inline SVG: no script, no build step, no network.

A chart is a row of stacked bars (one per hour or day, one colour per series), scaled to
its tallest bar, with a legend. It stretches to its container (``viewBox``), so the same
markup reads on a laptop and a phone; each bar carries a ``<title>`` that browsers show on
hover and screen readers read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Colours chosen to stay apart for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")

_HEIGHT = 220
_LEFT = 44
_BOTTOM = 28
_TOP = 10


@dataclass(frozen=True)
class Bar:
    """One bar: its axis label and its value per series (missing series count 0).

    Parameters:
      label: shown under the bar (every few bars when they are many).
      values: series name -> count.
    """

    label: str
    values: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.values.values())


def stacked_bars(
    bars: Sequence[Bar],
    *,
    series: Sequence[str],
    names: Mapping[str, str],
    title: str,
    empty: str,
    width: int = 720,
) -> Markup:
    """The chart as SVG markup.

    Parameters:
      bars: left to right.
      series: the stacking order (bottom first); also the legend's order and colours.
      names: what to call each series in the legend and tooltips (the operator's language).
      title: the chart's accessible name.
      empty: what to say when every bar is zero.
      width: the drawing's width in its own units; give a wide chart a larger one, so its
        text is drawn at the same size as a narrow chart's.
    """
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    tallest = max((bar.total for bar in bars), default=0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {_HEIGHT + 24}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    plot_height = _HEIGHT - _BOTTOM - _TOP
    top = _nice_ceiling(tallest)
    for fraction in (0, 0.5, 1) if top else (0,):
        y = _TOP + plot_height * (1 - fraction)
        parts.append(f'<line x1="{_LEFT}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" '
                     'class="grid"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" class="axis" '
                     f'text-anchor="end">{round(top * fraction)}</text>')
    if tallest == 0:
        parts.append(f'<text x="{(width + _LEFT) / 2}" y="{_TOP + plot_height / 2}" '
                     f'class="empty" text-anchor="middle">{escape(empty)}</text>')
    step = (width - _LEFT) / max(len(bars), 1)
    bar_width = max(step * 0.72, 1.0)
    every = max(1, round(len(bars) / 12))
    for i, bar in enumerate(bars):
        x = _LEFT + i * step + (step - bar_width) / 2
        y = _TOP + plot_height
        tooltip = ", ".join(
            f"{names.get(name, name)} {bar.values.get(name, 0)}"
            for name in series if bar.values.get(name, 0)
        )
        parts.append(f"<g><title>{escape(bar.label)} — {escape(tooltip or '0')}</title>")
        for name in series:
            value = bar.values.get(name, 0)
            if value <= 0 or top == 0:
                continue
            height = plot_height * value / top
            y -= height
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
                         f'height="{height:.1f}" fill="{colours[name]}"/>')
        parts.append("</g>")
        if i % every == 0:
            parts.append(f'<text x="{x + bar_width / 2:.1f}" y="{_HEIGHT - 10}" class="axis" '
                         f'text-anchor="middle">{escape(bar.label)}</text>')
    x = _LEFT
    for name in series:
        label = names.get(name, name)
        parts.append(f'<rect x="{x}" y="{_HEIGHT + 8}" width="12" height="12" '
                     f'fill="{colours[name]}"/>')
        parts.append(f'<text x="{x + 16}" y="{_HEIGHT + 19}" class="legend">'
                     f"{escape(label)}</text>")
        x += 24 + 8 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (axis top)."""
    if value <= 0:
        return 0
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= value:
                return factor * power
        power *= 10
