"""A register as a spreadsheet: one column definition per register, used alike by its template, its export and
its import, so an exported file imports back unchanged.

The sheet is named as the register (`Risk register`), row 1 holds the column titles, every later row an entry.
`ID` and `Version` name the entry a row came from (blank: a new entry, or the entry of the same name); `Joint`
says whether it is shared with the partner organisation. Choice columns carry a drop-down list, number columns
a range check; the `Notes` sheet says what each column takes. Text that a spreadsheet program would run as a
formula (it starts with = + - @) is written with a leading apostrophe and read back without it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from ..errors import BadRequest
from ..registers.kinds import Register

ID, JOINT, VERSION = "id", "joint", "version"
MAX_ROWS = 5000
MAX_UNZIPPED = 50 * 1024 * 1024  # a small file that unpacks to more is refused (a zip bomb)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Column:
    """One column of a register's sheet."""

    name: str  # the entry's field, or id / joint / version
    title: str
    kind: str  # id | text | integer | number | date | choice | yesno
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    def describe(self) -> str:
        """What the column takes, in a person's words (the Notes sheet and every problem about a value)."""
        if self.kind == "id":
            return "the entry's number as exported; leave blank for a new entry"
        if self.kind == "yesno":
            return "yes or no"
        if self.kind == "choice":
            return "one of: " + ", ".join(label(c) for c in self.choices)
        if self.kind == "date":
            return "a date (YYYY-MM-DD)"
        if self.kind in ("integer", "number"):
            what = "a whole number" if self.kind == "integer" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{what} from {_number(self.minimum)} to {_number(self.maximum)}"
            if self.minimum is not None:
                return f"{what}, {_number(self.minimum)} or more"
            return what
        return f"text, at most {self.max_length} characters" if self.max_length else "text"


@dataclass
class Problem:
    """What is wrong with one cell (or a whole row: column None)."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Row:
    """One filled row of the sheet as read: its number in the sheet, the values by column name (blank cells
    absent) and what could not be read."""

    number: int
    values: dict
    problems: list[Problem] = field(default_factory=list)


def label(choice: str) -> str:
    return str(choice).replace("_", " ")


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def columns(register: Register) -> list[Column]:
    """The register's sheet columns, in order: ID, the register's own columns, Joint, Version."""
    props, required = register.schema["properties"], set(register.schema.get("required", ()))
    found = [Column(ID, "ID", "id")]
    for name, title in register.columns:
        schema = props[name]
        kind = ("choice" if "enum" in schema else "date" if schema.get("format") == "date"
                else "yesno" if schema.get("type") == "boolean"
                else schema["type"] if schema.get("type") in ("integer", "number") else "text")
        found.append(Column(name, title, kind, name in required, tuple(schema.get("enum", ())),
                            schema.get("minimum"), schema.get("maximum"), schema.get("maxLength")))
    found.append(Column(JOINT, "Joint", "yesno"))
    found.append(Column(VERSION, "Version", "id"))
    return found


def sheet_title(register: Register) -> str:
    return register.title[:31]


# ---- writing: the template and the export -------------------------------------------------------------------

def write(register: Register, entries: list[tuple[int, dict, bool, int]], *, joint_column: bool = True) -> bytes:
    """The register's workbook: its sheet with one row per (id, data, joint, version) and the Notes sheet.
    With no entries it is the template."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    cols = [c for c in columns(register) if joint_column or c.name != JOINT]
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(register)
    sheet.append([c.title for c in cols])
    for cell, column in zip(sheet[1], cols, strict=True):
        cell.font = Font(bold=True)
        cell.comment = Comment(("Required. " if column.required else "") + column.describe()[:900], "collabflow")
    for entry_id, data, joint, version in entries:
        sheet.append([_cell(column, entry_id, data, joint, version) for column in cols])
    last = max(len(entries) + 1, 2) + 1000
    for index, column in enumerate(cols, start=1):
        letter = get_column_letter(index)
        area = f"{letter}2:{letter}{last}"
        sheet.column_dimensions[letter].width = min(max(len(column.title) + 4, 12), 40)
        rule = None
        if column.kind in ("choice", "yesno"):
            options = [label(c) for c in column.choices] if column.kind == "choice" else [YES, NO]
            rule = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
        elif column.kind in ("integer", "number") and column.minimum is not None:
            kind = "whole" if column.kind == "integer" else "decimal"
            if column.maximum is not None:
                rule = DataValidation(type=kind, operator="between", formula1=_number(column.minimum),
                                      formula2=_number(column.maximum), allow_blank=True)
            else:
                rule = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=_number(column.minimum),
                                      allow_blank=True)
        if column.kind == "date":
            for row in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                for cell in row:
                    cell.number_format = "yyyy-mm-dd"
        if rule is not None:
            rule.error, rule.errorTitle, rule.showErrorMessage = column.describe()[:255], column.title[:32], True
            sheet.add_data_validation(rule)
            rule.add(area)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("Notes")
    notes.append([f"{register.title}: fill one row per entry in the sheet '{sheet_title(register)}', keep row 1 "
                  "as it is, then upload the file on the register's import page. Nothing is written until you "
                  "confirm the preview."])
    notes.append(["A row with an ID changes that entry; a row without one adds an entry, or changes the entry "
                  "of the same name. Rows that match their entry are left alone. Blank cells empty the field."])
    notes.append([])
    notes.append(["Column", "Required", "What it takes"])
    for cell in notes[4]:
        cell.font = Font(bold=True)
    for column in cols:
        notes.append([column.title, "required" if column.required else "", column.describe()])
    notes.column_dimensions["A"].width, notes.column_dimensions["C"].width = 28, 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(column: Column, entry_id: int, data: dict, joint: bool, version: int):
    if column.name == ID:
        return entry_id
    if column.name == VERSION:
        return version
    if column.name == JOINT:
        return YES if joint else NO
    value = data.get(column.name)
    if value is None:
        return None
    if column.kind == "choice":
        return label(value)
    if column.kind == "yesno":
        return YES if value else NO
    if column.kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        value = str(value)
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters an .xlsx file cannot hold
        return "'" + value if value.startswith(FORMULA_START) else value
    return value


# ---- reading: an uploaded file ------------------------------------------------------------------------------

def read(register: Register, content: bytes, *, max_bytes: int) -> list[Row]:
    """The filled rows of an uploaded workbook, each with its values and the problems of its cells. Raises
    BadRequest (errors under `file`) when the file as a whole cannot be taken: not an .xlsx file, too big, no
    sheet named as the register, row 1 missing a required column or naming one the register does not have."""
    if len(content) > max_bytes:
        raise _refused(f"the file is {len(content) // 1024} KB; at most {max_bytes // 1024} KB can be imported")
    book = _open(content)
    title = sheet_title(register)
    names = {" ".join(n.lower().split()): n for n in book.sheetnames}
    name = names.get(title.lower())
    if name is None:
        raise _refused(f"the file has no sheet named {title!r} (it has {', '.join(map(repr, book.sheetnames))}); "
                       f"download the {register.title.lower()}'s template and fill that sheet")
    sheet = book[name]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    by_title = {_heading(c.title): c for c in columns(register)}
    found: dict[int, Column] = {}
    problems = []
    for index, heading in enumerate(header):
        if heading is None or str(heading).strip() == "":
            continue
        column = by_title.get(_heading(heading))
        if column is None:
            problems.append(f"column {_letter(index)} {str(heading)[:60]!r} is not a column of the "
                            f"{register.title.lower()} (its columns: {', '.join(c.title for c in by_title.values())})")
        elif column in found.values():
            problems.append(f"column {_letter(index)} repeats the column {column.title!r}")
        else:
            found[index] = column
    missing = [c.title for c in by_title.values() if c.required and c not in found.values()]
    if missing:
        problems.insert(0, "row 1 has no column " + ", ".join(map(repr, missing))
                        + " (the register needs it; row 1 holds the column titles, as in the template)")
    if problems:
        raise _refused("; ".join(problems))
    result = []
    for number, cells in enumerate(rows, start=2):
        if not any(_blank(v) is False for v in cells):
            continue
        if len(result) >= MAX_ROWS:
            raise _refused(f"the sheet has more than {MAX_ROWS} rows; import it in parts")
        row = Row(number, {})
        for index, column in found.items():
            value = cells[index] if index < len(cells) else None
            if _blank(value):
                continue
            try:
                row.values[column.name] = _value(column, value)
            except ValueError as exc:
                row.problems.append(Problem(number, column.title, str(exc)))
        for index, value in enumerate(cells):
            if index not in found and not _blank(value):
                row.problems.append(Problem(number, _letter(index), "this column has no title in row 1; move "
                                            "the value under a column or delete it"))
        result.append(row)
    book.close()
    return result


def _open(content: bytes):
    from openpyxl import load_workbook

    not_xlsx = "the file is not an Excel workbook (.xlsx); save it as .xlsx and upload it again"
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise _refused("the file unpacks to more than 50 MB; import it in parts")
            if "xl/workbook.xml" not in archive.namelist():
                raise _refused(not_xlsx)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refused(not_xlsx) from None
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file; each means the same here
        raise _refused("the workbook could not be read (it may be damaged); save it again as .xlsx") from None


def _refused(message: str) -> BadRequest:
    return BadRequest(message, {"file": message})


def _heading(value) -> str:
    return " ".join(str(value).lower().split())


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(index + 1)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _value(column: Column, value):
    """A cell's value as the register stores it. Raises ValueError saying what the column takes."""
    wrong = ValueError(f"must be {column.describe()}")
    if column.kind == "id":
        number = _as_number(value)
        if number is None or not float(number).is_integer() or not 1 <= number <= 2**31 - 1:
            raise ValueError("must be a whole number, as exported" if column.name == VERSION else
                             f"must be {column.describe()}")
        return int(number)
    if column.kind in ("integer", "number"):
        number = _as_number(value)
        if number is None or (column.kind == "integer" and not float(number).is_integer()) \
                or (column.minimum is not None and number < column.minimum) \
                or (column.maximum is not None and number > column.maximum):
            raise wrong
        return int(number) if column.kind == "integer" or float(number).is_integer() and isinstance(value, int) \
            else number
    if column.kind == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        try:
            if len(text) != 10:
                raise wrong
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise wrong from None
    if column.kind == "yesno":
        text = str(value).strip().lower()
        if text in ("yes", "y", "true", "1") or value is True:
            return True
        if text in ("no", "n", "false", "0") or value is False:
            return False
        raise wrong
    text = _text(value)
    if column.kind == "choice":
        wanted = "_".join(text.lower().replace("-", " ").split())
        for choice in column.choices:
            if wanted == choice or wanted == "_".join(choice.lower().split()):
                return choice
        raise wrong
    if column.max_length and len(text) > column.max_length:
        raise ValueError(f"must be at most {column.max_length} characters (it has {len(text)})")
    return text


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(str(value).strip().replace(",", "")) if str(value).strip() else None
    except ValueError:
        return None


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()[:10] if isinstance(value, date) and not isinstance(value, datetime) \
            else value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text[1:2] in FORMULA_START and text[1:2]:
        text = text[1:]
    return text
