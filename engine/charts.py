"""Bar charts as self-contained SVG, drawn here: readable without colour and under a strict CSP.

Every bar carries its label and its count in text beside it, so the chart reads the same in
greyscale, and every bar is one colour (colour tells nothing the text does not). The chart is
an image to assistive technology (`role="img"`, named by its `<title>` and `<desc>`); the page
puts a table of the same figures beside it. Only presentation attributes are used: no `<style>`
element and no `style` attribute, which the pages' Content-Security-Policy refuses.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BAR_COLOUR", "Bar", "bar_chart", "shown_label"]

BAR_COLOUR = "#1d70b8"
TEXT_COLOUR = "#0b0c0c"
_FONTS = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"
_SIZE = 14
_LABEL_H, _BAR_H, _TOP, _GAP = 20, 20, 8, 8
_ROW = _LABEL_H + _BAR_H + 8
_CHAR_W = 0.62 * _SIZE
"""An average advance width: enough to keep a label clear of its bar in the fonts above."""
_MAX_LABEL = 64
"""Labels longer than this are cut with an ellipsis on the chart (each bar's `<title>` and the
table beside the chart hold them whole)."""

_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry at all, not even as references (controls, lone surrogates)."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: what it counts, in words, and how many."""

    label: str
    value: int


def _clean(text: str) -> str:
    return " ".join(_ILLEGAL.sub("\ufffd", text).split())


def _esc(text: str) -> str:
    return html.escape(_clean(text), quote=True)


def shown_label(label: str) -> str:
    """The label as the chart writes it beside its bar (cut to `_MAX_LABEL` characters)."""
    text = _clean(label)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1].rstrip() + "…"


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str,
    chart_id: str,
    width: int = 640,
    empty: str = "Nothing to show yet",
) -> str:
    """A horizontal bar chart, one bar per row, its label above it and its count at its end.

    Bar lengths are proportional to the values (the longest bar is the largest value); a value
    of 0 draws no bar but still its label and "0".

    Args:
        bars: the bars, top to bottom. Values below 0 are drawn as 0.
        title: the chart's accessible name (its `<title>`).
        description: what it shows, in a sentence (its `<desc>`).
        chart_id: a prefix for the ids of the title and description, unique on the page.
        width: the drawing's width in CSS pixels (it scales down with the page).
        empty: the words drawn when there are no bars.
    """
    cid = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id) or "chart"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart"'
        f' aria-labelledby="{cid}-title {cid}-desc"'
    )
    parts = [
        f'<title id="{cid}-title">{_esc(title)}</title>',
        f'<desc id="{cid}-desc">{_esc(description)}</desc>',
    ]
    font = f'font-family="{_FONTS}" font-size="{_SIZE}" fill="{TEXT_COLOUR}"'
    if not bars:
        height = _TOP * 2 + _ROW
        parts.append(f'<text x="0" y="{_TOP + 19}" {font}>{_esc(empty)}</text>')
        return _svg(head, width, height, parts)
    # Each label stands on its own line above its bar, so a long one needs no column of its
    # own and the bars can use the whole width.
    values = [max(b.value, 0) for b in bars]
    count_w = round(len(str(max(values))) * _CHAR_W) + _GAP * 2
    room = max(width - count_w, 1)
    top = max(values)
    height = _TOP * 2 + _ROW * len(bars)
    for i, (bar, value) in enumerate(zip(bars, values, strict=True)):
        y = _TOP + i * _ROW
        bar_y = y + _LABEL_H
        length = room * value / top if top else 0.0
        parts.append(f"<g><title>{_esc(bar.label)}: {value}</title>")
        parts.append(
            f'<text x="0" y="{y + _LABEL_H - 5}" {font}>{_esc(shown_label(bar.label))}</text>'
        )
        if value:
            parts.append(
                f'<rect x="0" y="{bar_y}" width="{_fmt(length)}" height="{_BAR_H}"'
                f' fill="{BAR_COLOUR}"/>'
            )
        parts.append(
            f'<text x="{_fmt(length + _GAP)}" y="{bar_y + _BAR_H - 5}" font-weight="700" {font}>'
            f"{value}</text></g>"
        )
    return _svg(head, width, height, parts)


def _svg(head: str, width: int, height: int, parts: list[str]) -> str:
    return (
        f'{head} width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        + "".join(parts)
        + "</svg>"
    )
