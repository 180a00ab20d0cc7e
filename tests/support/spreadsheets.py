"""Spreadsheets the import tests upload: a register's template or export filled with openpyxl as a person would."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def filled(template: bytes, rows: list[dict], *, keep: bool = True) -> bytes:
    """The workbook with `rows` (values by column title) written below its last row (or, keep=False, instead of
    its rows)."""
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    titles = [cell.value for cell in sheet[1]]
    if not keep and sheet.max_row > 1:
        sheet.delete_rows(2, sheet.max_row - 1)
    for row in rows:
        sheet.append([row.get(title) for title in titles])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edited(workbook: bytes, changes: dict[tuple[int, str], object]) -> bytes:
    """The workbook with cells changed: {(row, column title): value}."""
    book = load_workbook(io.BytesIO(workbook))
    sheet = book.worksheets[0]
    titles = [cell.value for cell in sheet[1]]
    for (row, title), value in changes.items():
        sheet.cell(row=row, column=titles.index(title) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rows_of(workbook: bytes) -> list[dict]:
    """The data rows by column title."""
    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=False)) for row in values[1:] if any(v is not None for v in row)]


def text_of_workbook(workbook: bytes) -> str:
    """Every cell of every sheet as text, one line per row (to look for what must not be there)."""
    book = load_workbook(io.BytesIO(workbook))
    return "\n".join(" | ".join("" if v is None else str(v) for v in row)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
