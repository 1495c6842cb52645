"""CSV cells a spreadsheet would run as a formula come out as text; numbers stay numbers."""

import io

import pytest

from kernel import csv as safe_csv


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("-1+1+cmd|' /C calc'!A0", "'-1+1+cmd|' /C calc'!A0"),
        ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
        ("+1+2", "'+1+2"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-1e", "'-1e"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-2e10", "-2e10"),
        ("42", "42"),
        ("a=b", "a=b"),
        ("", ""),
        (-7, -7),
        (1.25, 1.25),
        (None, None),
    ],
)
def test_safe_cell(value, written):
    assert safe_csv.safe_cell(value) == written


def test_the_writer_escapes_every_cell_of_every_row():
    out = io.StringIO()
    writer = safe_csv.writer(out, lineterminator="\n")
    writer.writerow(["=1+1", -1.5, "-1.5", "ok"])
    writer.writerow(["@x"])
    writer.writerow(["+y"])
    assert out.getvalue() == "'=1+1,-1.5,-1.5,ok\n'@x\n'+y\n"
