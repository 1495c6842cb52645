"""Charts drawn on the server as SVG: counts in, shapes out; templates/charts/_chart.html draws
them. No JavaScript, nothing from a CDN.

A chart is rows (a day, a tier, a framework) of counts per series (allow and deny, ...), and
every count carries the link to the list it counts. Readable without colour: each series has a
pattern as well as a tone, the legend and the larger figures are written on the chart, and the
same numbers, each a link, are in a table under it.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

PATTERNS = ("solid", "hatch", "dots", "cross", "lines", "open")
TONES = ("accent", "ok", "warn", "bad", "info", "neutral")

# The drawing's coordinate system, in CSS pixels at full size (the SVG shrinks to fit a
# narrower box; text shrinks with it).
WIDTH = 560
WIDE = 1100  # a chart across the whole page
COLUMN_HEIGHT = 210
COLUMN_MARGIN = {"top": 20, "right": 6, "bottom": 28, "left": 34}
ROW_LABEL = 18  # a horizontal bar's label sits above the bar
ROW_BAR = 20
ROW_GAP = 12
ROW_TOTAL = 44  # room at the right end of a horizontal bar for its total
AXIS_LABELS = 8  # at most this many category labels under vertical bars
TOTAL_MIN_SLOT = 22  # a vertical bar this wide or wider carries its total
INSIDE_MIN_WIDTH = 26  # a horizontal segment this wide or wider carries its count


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    tone: str = "accent"
    pattern: str = "solid"

    def __post_init__(self) -> None:
        if self.tone not in TONES or self.pattern not in PATTERNS:
            raise ValueError(f"Unknown tone or pattern: {self.tone}, {self.pattern}.")


@dataclass(frozen=True)
class Cell:
    value: int
    link: str = ""


@dataclass
class Row:
    key: str
    label: str
    cells: list[Cell]  # one per series, in the chart's series order
    link: str = ""  # the list of everything the row counts (its total)
    axis_label: str = ""  # shorter label under a vertical bar; `label` when empty

    @property
    def total(self) -> int:
        return sum(cell.value for cell in self.cells)


@dataclass
class Chart:
    """`horizontal`: one bar per row, label above it (few rows, long labels); otherwise one
    column per row (days, weeks). `shares`: each horizontal bar fills the width (the mix within
    a row matters more than rows compared with each other)."""

    key: str
    title: str
    series: list[Series]
    rows: list[Row]
    row_heading: str
    summary: str = ""
    horizontal: bool = False
    shares: bool = False
    series_links: list[str] = field(default_factory=list)  # per series: the whole period's list
    empty: str = "Nothing to count yet."
    unit: str = ""  # after a horizontal bar's total ("95 items")
    width: int = WIDTH

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row.cells) != len(self.series):
                raise ValueError(f"Row {row.key} has {len(row.cells)} cells for {self.series}.")

    @property
    def totals(self) -> list[dict]:
        """Per series: its total over every row, with the link to its list (the legend)."""
        links = self.series_links or [""] * len(self.series)
        return [
            {
                "series": series,
                "value": sum(row.cells[index].value for row in self.rows),
                "link": links[index],
                "pattern_id": self.pattern_id(series),
            }
            for index, series in enumerate(self.series)
        ]

    @property
    def grand_total(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def table(self) -> list[dict]:
        """The table under the chart: each row's cells paired with their series."""
        return [
            {"row": row, "cells": list(zip(self.series, row.cells, strict=True))}
            for row in self.rows
        ]

    def pattern_id(self, series: Series) -> str:
        return f"chart-{self.key}-{series.key}"

    @cached_property
    def drawing(self) -> dict:
        return _draw_rows(self) if self.horizontal else _draw_columns(self)


def rows_by_choice(
    choices: Iterable[Any], counts: Mapping[str, int], link: Callable[[str], str]
) -> list[Row]:
    """A one-series chart's rows, one per choice (a status, a tier) in the order given: its
    count in `counts` by value, linked to `link(value)`, the list it counts."""
    return [
        Row(key=c.value, label=c.label, cells=[Cell(counts[c.value], link(c.value))])
        for c in choices
    ]


def counted(choices: Iterable[Any], counts: Mapping[str, int]) -> str:
    """Each choice's count in words, for a chart's summary: "2 pending, 5 approved"."""
    return ", ".join(f"{counts[c.value]} {c.label.lower()}" for c in choices)


def nice_ceiling(value: int) -> tuple[int, int]:
    """The axis maximum at or above `value` and its step: 1, 2 or 5 times a power of ten, in
    at most four steps (0, 5, 10, 15, 20 rather than 0, 7, 14, 21)."""
    value = max(value, 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * 4 >= value:
                return -(-value // step) * step, step
        magnitude *= 10


def _segment(chart: Chart, row: Row, index: int, box: tuple[float, float, float, float]) -> dict:
    series = chart.series[index]
    x, y, width, height = box
    value = row.cells[index].value
    return {
        "x": round(x, 2),
        "y": round(y, 2),
        "width": round(width, 2),
        "height": round(height, 2),
        "fill": f"url(#{chart.pattern_id(series)})",
        "series": series,
        "value": value,
        "title": f"{row.label}: {value} {series.label.lower()}",
    }


def _draw_columns(chart: Chart) -> dict:
    margin = COLUMN_MARGIN
    plot_width = chart.width - margin["left"] - margin["right"]
    plot_height = COLUMN_HEIGHT - margin["top"] - margin["bottom"]
    bottom = margin["top"] + plot_height
    top_value, step = nice_ceiling(max((row.total for row in chart.rows), default=0))
    slot = plot_width / max(len(chart.rows), 1)
    bar = max(2.0, slot * 0.7)
    every = -(-len(chart.rows) // AXIS_LABELS)
    segments, totals, labels = [], [], []
    for position, row in enumerate(chart.rows):
        left = margin["left"] + position * slot + (slot - bar) / 2
        base = float(bottom)
        for index, cell in enumerate(row.cells):
            if cell.value:
                height = cell.value / top_value * plot_height
                base -= height
                segments.append(_segment(chart, row, index, (left, base, bar, height)))
        centre = round(left + bar / 2, 2)
        if slot >= TOTAL_MIN_SLOT and row.total:
            totals.append({"x": centre, "y": round(base - 4, 2), "text": row.total})
        if position % every == 0:
            labels.append({"x": centre, "y": bottom + 16, "text": row.axis_label or row.label})
    ticks = [
        {"y": round(bottom - value / top_value * plot_height, 2), "text": value}
        for value in range(0, top_value + 1, step)
    ]
    return {
        "width": chart.width,
        "height": COLUMN_HEIGHT,
        "segments": segments,
        "totals": totals,
        "labels": labels,
        "ticks": ticks,
        "grid_left": margin["left"],
        "grid_right": chart.width - margin["right"],
        "tick_x": margin["left"] - 6,
        "empty_at": {"x": chart.width / 2, "y": COLUMN_HEIGHT / 2},
    }


def _draw_rows(chart: Chart) -> dict:
    plot_width = chart.width - ROW_TOTAL - (8 * len(chart.unit) if chart.unit else 0)
    widest = max((row.total for row in chart.rows), default=0) or 1
    pitch = ROW_LABEL + ROW_BAR + ROW_GAP
    segments, totals, labels, inside, tracks = [], [], [], [], []
    for position, row in enumerate(chart.rows):
        top = position * pitch
        labels.append({"x": 0, "y": top + ROW_LABEL - 5, "text": row.label})
        bar_top = top + ROW_LABEL
        tracks.append({"y": bar_top, "width": plot_width, "height": ROW_BAR})
        scale = plot_width / (row.total if chart.shares and row.total else widest)
        left = 0.0
        for index, cell in enumerate(row.cells):
            if not cell.value:
                continue
            width = cell.value * scale
            segments.append(_segment(chart, row, index, (left, bar_top, width, ROW_BAR)))
            if len(chart.series) > 1 and width >= INSIDE_MIN_WIDTH:
                inside.append(
                    {
                        "x": round(left + width / 2, 2),
                        "y": bar_top + ROW_BAR - 6,
                        "text": cell.value,
                    }
                )
            left += width
        text = f"{row.total} {chart.unit}" if chart.unit else row.total
        totals.append({"x": round(left + 6, 2), "y": bar_top + ROW_BAR - 6, "text": text})
    return {
        "width": chart.width,
        "height": max(len(chart.rows) * pitch - ROW_GAP, pitch),
        "segments": segments,
        "totals": totals,
        "labels": labels,
        "inside": inside,
        "tracks": tracks,
        "ticks": [],
        "empty_at": {"x": chart.width / 2, "y": pitch / 2},
    }
