"""Plain-text tables shared by every report of the toolkit."""

from __future__ import annotations

from collections.abc import Sequence


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Right-aligned columns (the first left-aligned), a header rule, one line per row.

    Args:
        headers: the column names.
        rows: the values; floats get 4 decimals (scientific notation when tiny or huge),
            booleans ``yes`` / ``no``.

    Returns:
        The table as one string, without a final newline.

    Example:
        >>> print(format_table(["layer", "rate"], [["l1", 0.25], ["l2", 1e-5]]))
        layer       rate
        -----  ---------
        l1        0.2500
        l2     1.000e-05
    """
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = (v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, cells)])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """The same cells as :func:`format_table`, as a Markdown table (for generated pages); a
    ``|`` inside a cell is escaped.

    Args:
        headers: the column names.
        rows: one sequence of values per row, formatted as :func:`format_table` does.

    Returns:
        The table's lines, header and rule first.

    Example:
        >>> print(markdown_table(["method", "rate"], [["kaiming", 0.25]]))
        | method | rate |
        |---|---|
        | kaiming | 0.2500 |
    """
    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"

    rule = "|" + "---|" * len(headers)
    return "\n".join([line(headers), rule, *(line([_cell(v) for v in row]) for row in rows)])
