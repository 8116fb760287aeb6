"""Bar charts drawn on the server as SVG: no script, no library, nothing to load.

:func:`bar_chart` computes the geometry; ``templates/dashboard/_chart.html`` writes the markup
(escaped by Jinja), with a ``<title>`` and ``<desc>`` that name the chart for screen readers, and
the page puts the same numbers in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 240
_LEFT = 92  # room for the value axis' labels (at the larger phone font too)
_BOTTOM = 36  # room for the day labels
_TOP = 12
_RIGHT = 8
#: At most this many day labels under the bars (one every few days on a long period).
MAX_X_LABELS = 6


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    #: What the bar says when pointed at (its day and value).
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    baseline: float
    left: float
    right: float
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]


def nice_step(maximum: float, count: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) that splits ``0…maximum`` into about
    ``count`` parts; 1 when there is nothing to show."""
    if maximum <= 0:
        return 1
    raw = maximum / count
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def bar_chart(
    values: Sequence[float],
    day_labels: Sequence[str],
    value_labels: Sequence[str],
    *,
    format_tick: Callable[[float], str] | None = None,
    integer: bool = False,
) -> BarChart:
    """One bar per value, left to right. ``day_labels[i]`` and ``value_labels[i]`` name bar
    ``i`` (its tooltip: ``"12 Nov: €36.00"``); ``format_tick(v)`` labels the value axis (default: the
    number as is). ``integer``: ticks on whole numbers only (counts)."""
    if not (len(values) == len(day_labels) == len(value_labels)):
        raise ValueError("one day label and one value label per value")
    label_tick = format_tick or _plain
    top = max(values, default=0)
    step = nice_step(top)
    if integer:
        step = max(1, math.ceil(step))
    ceiling = step * max(1, math.ceil(top / step))
    plot_width = WIDTH - _LEFT - _RIGHT
    plot_height = HEIGHT - _TOP - _BOTTOM
    baseline = HEIGHT - _BOTTOM
    slot = plot_width / max(1, len(values))
    gap = min(slot * 0.2, 6)
    bars = tuple(
        Bar(
            x=round(_LEFT + i * slot + gap / 2, 2),
            y=round(baseline - value / ceiling * plot_height, 2),
            width=round(max(slot - gap, 0.5), 2),
            height=round(value / ceiling * plot_height, 2),
            label=f"{day}: {text}",
        )
        for i, (value, day, text) in enumerate(zip(values, day_labels, value_labels, strict=True))
    )
    y_ticks = tuple(
        Tick(
            position=round(baseline - k * step / ceiling * plot_height, 2),
            label=label_tick(k * step),
        )
        for k in range(round(ceiling / step) + 1)
    )
    every = max(1, math.ceil(len(values) / MAX_X_LABELS))
    x_ticks = tuple(
        Tick(position=round(_LEFT + (i + 0.5) * slot, 2), label=day)
        for i, day in enumerate(day_labels)
        if i % every == 0
    )
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=baseline,
        left=_LEFT,
        right=WIDTH - _RIGHT,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )


def _plain(value: float) -> str:
    return f"{value:g}"
