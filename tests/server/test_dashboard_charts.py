"""The dashboard's server-drawn bar charts: geometry only (the markup is a template)."""

from __future__ import annotations

import pytest

from buybutton_server.dashboard import charts


@pytest.mark.parametrize(
    "maximum, step", [(0, 1), (3, 1), (7, 2), (36, 10), (4800, 2000), (120_000, 50_000)]
)
def test_nice_step_is_one_two_or_five_times_a_power_of_ten(maximum, step):
    assert charts.nice_step(maximum) == step


def test_bars_rise_from_the_baseline_in_proportion_and_keep_their_labels():
    chart = charts.bar_chart([2, 0, 1], ["1 Nov", "2 Nov", "3 Nov"], ["2", "0", "1"], integer=True)
    tallest, empty, half = chart.bars
    assert empty.height == 0 and empty.y == chart.baseline
    assert tallest.height == pytest.approx(2 * half.height)
    assert tallest.y + tallest.height == pytest.approx(chart.baseline)
    assert [bar.label for bar in chart.bars] == ["1 Nov: 2", "2 Nov: 0", "3 Nov: 1"]
    assert [tick.label for tick in chart.y_ticks] == ["0", "1", "2"]
    assert all(chart.left <= bar.x and bar.x + bar.width <= chart.right for bar in chart.bars)


def test_a_long_series_labels_only_some_days():
    days = [f"d{i}" for i in range(90)]
    chart = charts.bar_chart([1] * 90, days, ["1"] * 90, format_tick=lambda v: f"€{v:g}")
    assert len(chart.bars) == 90 and len(chart.x_ticks) <= charts.MAX_X_LABELS
    assert chart.y_ticks[-1].label.startswith("€")


def test_labels_must_match_the_values():
    with pytest.raises(ValueError):
        charts.bar_chart([1, 2], ["a"], ["1", "2"])
