"""CSV cells no spreadsheet evaluates (OWASP CSV injection advice)."""

import csv
import io

import pytest

from buybutton.spreadsheets import csv_document, neutralize_formula


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil","x")', "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\0=1", "=", "-"],
)
def test_cells_a_spreadsheet_would_evaluate_get_a_single_quote(cell):
    assert neutralize_formula(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell, text",
    [
        ("Mug", "Mug"),
        ("", ""),
        (None, ""),
        (1200, "1200"),
        (" =1", " =1"),
        ("a=1", "a=1"),
        ("'=1", "'=1"),
        ("12.00 EUR", "12.00 EUR"),
    ],
)
def test_other_cells_are_left_as_they_are(cell, text):
    assert neutralize_formula(cell) == text


def test_csv_document_quotes_every_data_cell_and_keeps_the_header_plain():
    text = csv_document(["id", "title"], [["p1", '=HYPERLINK("http://evil","x")'], ["p2", "a,b"]])
    assert text == ('id,title\r\n"p1","\'=HYPERLINK(""http://evil"",""x"")"\r\n"p2","a,b"\r\n')
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["id", "title"],
        ["p1", '\'=HYPERLINK("http://evil","x")'],
        ["p2", "a,b"],
    ]
