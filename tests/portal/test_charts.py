"""kernel.charts and templates/charts/_chart.html: counts in, a patterned SVG, a legend and a
table of links out."""

import pytest
from django.template.loader import render_to_string

from kernel.charts import WIDE, Cell, Chart, Row, Series, nice_ceiling

ALLOW = Series("allow", "Allow", tone="ok", pattern="solid")
DENY = Series("deny", "Deny", tone="bad", pattern="hatch")


def chart(rows, **kwargs) -> Chart:
    return Chart(
        key="test", title="Decisions", series=[ALLOW, DENY], rows=rows, row_heading="Day", **kwargs
    )


def row(key, allow, deny) -> Row:
    return Row(
        key=key,
        label=key,
        cells=[Cell(allow, f"/a/{key}"), Cell(deny, f"/d/{key}")],
        link=f"/t/{key}",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, (1, 1)), (3, (3, 1)), (7, (8, 2)), (19, (20, 5)), (42, (60, 20)), (1999, (2000, 500))],
)
def test_the_axis_ends_on_a_round_number_in_at_most_four_steps(value, expected):
    top, step = nice_ceiling(value)
    assert (top, step) == expected
    assert top >= value
    assert top // step <= 4


def test_a_row_needs_one_cell_per_series_and_series_a_known_look():
    with pytest.raises(ValueError, match="has 1 cells"):
        chart([Row(key="x", label="x", cells=[Cell(1)])])
    with pytest.raises(ValueError, match="Unknown tone or pattern"):
        Series("x", "X", tone="pink")


def test_columns_stack_in_proportion_and_carry_their_totals():
    drawn = chart([row("mon", 30, 10), row("tue", 0, 0), row("wed", 5, 0)]).drawing
    mon = [s for s in drawn["segments"] if s["title"].startswith("mon")]
    assert [s["series"].key for s in mon] == ["allow", "deny"]
    assert mon[0]["height"] == pytest.approx(3 * mon[1]["height"])
    assert mon[1]["y"] + mon[1]["height"] == pytest.approx(mon[0]["y"])  # deny sits on allow
    assert [t["text"] for t in drawn["totals"]] == [40, 5]  # none over an empty day
    assert [t["text"] for t in drawn["ticks"]] == [0, 10, 20, 30, 40]
    assert mon[0]["title"] == "mon: 30 allow"


def test_many_columns_label_every_few_and_only_wide_ones_carry_figures():
    days = [row(f"d{n}", n, 0) for n in range(30)]
    narrow = chart(days).drawing
    assert [label["text"] for label in narrow["labels"]] == [f"d{n}" for n in range(0, 30, 4)]
    assert narrow["totals"] == []  # columns too narrow to carry figures: the table has them
    wide = chart(days, width=WIDE).drawing
    assert wide["width"] == WIDE
    assert [t["text"] for t in wide["totals"]] == list(range(1, 30))


def test_rows_as_shares_fill_the_width_and_write_their_counts():
    drawn = chart(
        [row("a", 1, 1), row("b", 10, 30)], horizontal=True, shares=True, unit="items"
    ).drawing
    widths = {}
    for segment in drawn["segments"]:
        key = segment["title"].split(":")[0]
        widths[key] = widths.get(key, 0) + segment["width"]
    assert widths["a"] == pytest.approx(widths["b"])
    assert [t["text"] for t in drawn["totals"]] == ["2 items", "40 items"]
    assert {figure["text"] for figure in drawn["inside"]} == {1, 10, 30}
    assert len(drawn["tracks"]) == 2


def test_the_template_draws_patterns_a_legend_and_a_table_of_links():
    data = chart(
        [row("<b>mon</b>", 2, 1)], summary="3 decisions.", series_links=["/a/all", "/d/all"]
    )
    html = render_to_string("charts/_chart.html", {"chart": data})
    assert '<pattern id="chart-test-allow"' in html
    assert '<pattern id="chart-test-deny"' in html
    assert 'class="ink"' in html
    assert 'fill="url(#chart-test-deny)"' in html
    assert '<desc id="chart-test-desc">3 decisions.</desc>' in html
    assert 'Allow: <a href="/a/all">2</a>' in html
    assert "&lt;b&gt;mon&lt;/b&gt;" in html
    assert "<b>mon</b>" not in html
    assert '<td data-series="deny"><a href="/d/&lt;b&gt;mon&lt;/b&gt;">1</a></td>' in html
    assert '<td data-series="total"><a href="/t/&lt;b&gt;mon&lt;/b&gt;">3</a></td>' in html


def test_an_empty_chart_says_so():
    html = render_to_string(
        "charts/_chart.html", {"chart": chart([row("mon", 0, 0)], empty="None yet.")}
    )
    assert 'class="empty"' in html
    assert "None yet." in html
