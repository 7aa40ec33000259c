"""An upload's lines, each one disclosure: JSON Lines, or CSV with dotted column names.

Pure: bytes in, numbered lines out, and each line judged exactly as the single POST judges its
body (``validation.parse_disclosure``), so a line's errors read the same, JSON paths included.

Line numbers are the file's own, counted from 1, so a submitter finds the line in an editor:
blank lines are counted but carry nothing and are skipped; a CSV row is numbered by the line it
starts on (a quoted cell may span lines), and its header is line 1.

CSV columns name the field they fill with a dotted path (``supplier.supplier_id``,
``working_time.avg_weekly_hours``); a number is a list position (``recruitment_costs.fee_lines.0
.amount``). An empty cell leaves its field out, and list entries left wholly empty are dropped.
Cells are text; the disclosure's types convert them (``48`` to a number, ``true`` to a boolean)
as they would the same text in JSON.
"""

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from laboursight_schemas.disclosure import Disclosure

from .validation import InvalidBody, InvalidJson, json_path, parse_disclosure

Format = Literal["jsonl", "csv"]

BOM: Final = b"\xef\xbb\xbf"
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]{1,3}")


@dataclass(frozen=True)
class Line:
    """``body``: one JSON document; ``errors``: why the line is refused before it is parsed;
    ``cells``: every value in ``body`` is a string (a CSV cell), read into the field's type as
    a spreadsheet means it, where a JSON line must carry the type itself."""

    number: int
    body: bytes
    errors: tuple[dict[str, str], ...] = ()
    cells: bool = False


@dataclass(frozen=True)
class Good:
    number: int
    disclosure: Disclosure


@dataclass(frozen=True)
class Bad:
    number: int
    kind: str
    code: str
    errors: list[dict[str, str]] = field(default_factory=list)


class UploadError(ValueError):
    """The upload as a whole cannot be read (a CSV header, an encoding): no line is taken."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def lines(body: bytes, kind: Format) -> list[Line]:
    """Every non-blank line of the upload, in order; raises UploadError."""
    return json_lines(body) if kind == "jsonl" else csv_lines(body)


def json_lines(body: bytes) -> list[Line]:
    found = []
    for number, raw in enumerate(body.removeprefix(BOM).split(b"\n"), 1):
        text = raw.removesuffix(b"\r")
        if text.strip():
            found.append(Line(number, text))
    return found


def judge(line: Line, entity_ids: frozenset[str]) -> Good | Bad:
    """The single POST's verdict on one line, for a submitter bound to ``entity_ids``."""
    if line.errors:
        return Bad(line.number, "unknown", "validation_failed", list(line.errors))
    try:
        disclosure = parse_disclosure(line.body, strict=not line.cells)
    except InvalidJson as error:
        return Bad(line.number, "unknown", "invalid_json", [{"field": "$", "message": str(error)}])
    except InvalidBody as error:
        return Bad(line.number, error.kind, "validation_failed", error.errors)
    if disclosure.entity_id not in entity_ids:
        kind = disclosure.kind
        return Bad(
            line.number,
            kind,
            "forbidden",
            [
                {
                    "field": f"$.{kind}.{kind}_id",
                    "message": f"this key may not submit for {kind} {disclosure.entity_id!r}; "
                    f"it may submit for {', '.join(sorted(entity_ids))}",
                }
            ],
        )
    return Good(line.number, disclosure)


# --- CSV ----------------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def csv_lines(body: bytes) -> list[Line]:
    try:
        text = body.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        raise UploadError(
            [{"field": "$", "message": f"the CSV is not UTF-8 text (byte {error.start})"}]
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        columns = _columns(header)
        found = []
        starts = reader.line_num + 1
        for row in reader:
            number, starts = starts, reader.line_num + 1
            if any(cell.strip() for cell in row):
                found.append(_row(number, columns, row))
    except csv.Error as error:
        raise UploadError(
            [{"field": "$", "message": f"line {reader.line_num}: not CSV: {error}"}]
        ) from None
    return found


def _columns(header: Sequence[str]) -> list[Path]:
    problems, paths = [], []
    for position, name in enumerate(header, 1):
        segments = name.strip().split(".")
        if not all(_SEGMENT.fullmatch(s) for s in segments) or segments[0].isdigit():
            problems.append(
                {
                    "field": "$",
                    "message": f"column {position} {name!r} is not a dotted field path "
                    "(e.g. supplier.supplier_id or recruitment_costs.fee_lines.0.amount)",
                }
            )
            continue
        paths.append(tuple(int(s) if s.isdigit() else s for s in segments))
    for index, path in enumerate(paths):
        for other in paths[:index]:
            shorter = min(len(path), len(other))
            if path[:shorter] == other[:shorter]:
                problems.append(
                    {
                        "field": json_path(path),
                        "message": f"column {_dotted(path)!r} overlaps column {_dotted(other)!r}",
                    }
                )
            elif _clash(path, other):
                problems.append(
                    {
                        "field": json_path(path),
                        "message": f"column {_dotted(path)!r} treats a field as both a list "
                        f"and an object, unlike column {_dotted(other)!r}",
                    }
                )
    if problems:
        raise UploadError(problems)
    return paths


def _clash(path: Path, other: Path) -> bool:
    for mine, theirs in zip(path, other, strict=False):
        if mine != theirs:
            return isinstance(mine, int) != isinstance(theirs, int)
    return False


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def _row(number: int, columns: Sequence[Path], row: Sequence[str]) -> Line:
    if len(row) > len(columns):
        message = f"this row has {len(row)} cells; the header names {len(columns)} columns"
        return Line(number, b"", ({"field": "$", "message": message},))
    tree: dict[str | int, Any] = {}
    for path, cell in zip(columns, row, strict=False):
        if cell.strip():
            _put(tree, path, cell)
    return Line(number, json.dumps(_plain(tree)).encode(), cells=True)


def _put(tree: dict[str | int, Any], path: Path, value: str) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _plain(node: object) -> object:
    """Nested dicts with int keys become lists, in position order, gaps closed."""
    if not isinstance(node, Mapping):
        return node
    if node and all(isinstance(key, int) for key in node):
        return [_plain(node[key]) for key in sorted(node)]
    return {key: _plain(value) for key, value in node.items()}
