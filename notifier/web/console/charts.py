"""Charts drawn on the server as inline SVG: no script, no build step, no network.

A chart is a row of stacked bars (one per hour or day, one colour per series), scaled to
its tallest bar, with a legend. It stretches to its container (``viewBox``), so the same
markup reads on a laptop and a phone; each bar carries a ``<title>`` that browsers show on
hover. The numbers behind a chart also come as a table (:func:`numbers_table`), which
screen readers read and anyone can open.

A colour means one thing across the console: channels have one palette, statuses another,
and the two never share a colour (:data:`COLOURS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# One table of what each colour means. Channels are cool hues (blue, purple, teal);
# statuses run from green (it arrived) through greys (on its way, held back) to orange
# and red (it did not arrive), so a failure never looks like a channel.
CHANNEL_COLOURS: Mapping[str, str] = {
    "sms": "#1F5FA8",      # blue
    "email": "#7B4FA0",    # purple
    "voice": "#2A8C9C",    # teal
}
STATUS_COLOURS: Mapping[str, str] = {
    "delivered": "#1E8A4C",    # green
    "sent": "#7CC596",         # light green: sent by email, nothing more to learn
    "accepted": "#B7C0CC",     # light grey: the provider has it, on its way
    "submitting": "#D7DCE3",   # lighter grey
    "retrying": "#8D7BB0",     # greyish violet: trying again
    "suppressed": "#6B7480",   # dark grey: held back on purpose (opted out...)
    "undelivered": "#E8871E",  # orange: the provider could not deliver it
    "failed": "#C62828",       # red
}
COLOURS: Mapping[str, Mapping[str, str]] = {"channel": CHANNEL_COLOURS,
                                            "status": STATUS_COLOURS}
# A series in neither table (a status added later) shows in a neutral colour.
OTHER_COLOUR = "#A0A7B0"

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
    colours: Mapping[str, str],
    width: int = 720,
) -> Markup:
    """The chart as SVG markup.

    Parameters:
      bars: left to right.
      series: the stacking order (bottom first); also the legend's order and colours.
      names: what to call each series in the legend and tooltips (the operator's language).
      title: the chart's accessible name.
      empty: what to say when every bar is zero.
      colours: series name -> colour, one of :data:`COLOURS`' tables.
      width: the drawing's width in its own units; give a wide chart a larger one, so its
        text is drawn at the same size as a narrow chart's.
    """
    colours = {name: colours.get(name, OTHER_COLOUR) for name in series}
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


def numbers_table(
    bars: Sequence[Bar],
    *,
    series: Sequence[str],
    names: Mapping[str, str],
    title: str,
    corner: str,
    summary: str,
) -> Markup:
    """The chart's numbers as a table in a ``<details>``: closed, it costs a line; open,
    it gives exact counts; a screen reader reads it instead of guessing from the drawing.

    Parameters:
      bars, series, names: as for :func:`stacked_bars`.
      title: the table's caption (the chart's title).
      corner: the header of the bars' labels column ("Hour", "Day").
      summary: the words that open the table.
    """
    head = "".join(f'<th scope="col" class="n">{escape(names.get(name, name))}</th>'
                   for name in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(bar.label)}</th>'
        + "".join(f'<td class="n">{bar.values.get(name, 0)}</td>' for name in series)
        + "</tr>"
        for bar in bars
    )
    return Markup(
        f'<details class="chart-numbers"><summary class="small">{escape(summary)}</summary>'
        f'<div class="scroll"><table class="small"><caption>{escape(title)}</caption>'
        f'<thead><tr><th scope="col">{escape(corner)}</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></details>"
    )


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
