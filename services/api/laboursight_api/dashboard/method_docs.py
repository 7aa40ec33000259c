"""The rule sets' method documents (``laboursight-rules document``, kept by ``make method``) as
HTML.

The documents are Markdown in the small subset the generator writes: headings, paragraphs,
bullet lists (nested by two spaces), pipe tables, fenced code, comments, and inline code, bold
and italic. This renders that subset, escaping everything else as text: the api carries no
Markdown library, and the documents are the project's own.
"""

import re
from functools import cache
from pathlib import Path
from typing import Final

from markupsafe import Markup, escape

VERSION: Final = re.compile(r"[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,3}")
_INLINE: Final = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*(.+?)\*")


def versions(folder: Path | None) -> list[str]:
    """The rule-set versions with a document in ``folder``, newest first."""
    if folder is None:
        return []
    found = [p.stem for p in folder.glob("*.md") if VERSION.fullmatch(p.stem)]
    return sorted(found, key=lambda v: tuple(int(n) for n in v.split(".")), reverse=True)


def inline(text: str) -> Markup:
    out, at = [], 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[at : match.start()]))
        code, strong, emphasis = match.groups()
        if code is not None:
            out.append(Markup("<code>{}</code>").format(code))
        elif strong is not None:
            out.append(Markup("<strong>{}</strong>").format(inline(strong)))
        else:
            out.append(Markup("<em>{}</em>").format(inline(emphasis)))
        at = match.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def _table(rows: list[str]) -> Markup:
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    head, body = cells[0], list(cells[2:])
    html = [Markup("<table><thead><tr>")]
    html += [Markup('<th scope="col">{}</th>').format(inline(c)) for c in head]
    html.append(Markup("</tr></thead><tbody>"))
    for row in body:
        html.append(
            Markup("<tr>")
            + Markup("").join(Markup("<td>{}</td>").format(inline(c)) for c in row)
            + Markup("</tr>")
        )
    html.append(Markup("</tbody></table>"))
    return Markup("").join(html)


def _list(items: list[tuple[int, str]]) -> Markup:
    """Bullet items (indent, text) as nested lists."""
    html, depth = [], -1
    for indent, text in items:
        level = indent // 2
        if level > depth:
            html += [Markup("<ul><li>")] * (level - depth)
        else:
            html.append(Markup("</li></ul>") * (depth - level) + Markup("</li><li>"))
        depth = level
        html.append(inline(text))
    html.append(Markup("</li></ul>") * (depth + 1))
    return Markup("").join(html)


def render(text: str, shift: int = 1) -> Markup:
    """The document as HTML; headings one level lower (``shift``), under the page's own."""
    blocks: list[Markup] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines)
            )
            blocks.append(
                Markup("<pre><code>{}</code></pre>").format("\n".join(lines[i + 1 : end]))
            )
            i = end + 1
        elif line.startswith("<!--"):
            while i < len(lines) and "-->" not in lines[i]:
                i += 1
            i += 1
        elif heading := re.match(r"(#{1,6}) (.*)", line):
            level = min(len(heading[1]) + shift, 6)
            blocks.append(Markup("<h{0}>{1}</h{0}>").format(level, inline(heading[2])))
            i += 1
        elif line.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            blocks.append(_table(lines[i:j]))
            i = j
        elif re.match(r"\s*- ", line):
            items = []
            while i < len(lines) and (bullet := re.match(r"(\s*)- (.*)", lines[i])):
                items.append((len(bullet[1]), bullet[2]))
                i += 1
            blocks.append(_list(items))
        elif line.strip():
            j = i
            while (
                j < len(lines) and lines[j].strip() and not re.match(r"(#|\||```|\s*- )", lines[j])
            ):
                j += 1
            blocks.append(Markup("<p>{}</p>").format(inline(" ".join(lines[i:j]))))
            i = max(j, i + 1)
        else:
            i += 1
    return Markup("\n").join(blocks)


@cache
def document(path: Path) -> tuple[str, Markup]:
    """The document's title (its first heading) and its body as HTML, read once."""
    text = path.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    return first.lstrip("# ").strip(), render(rest)
