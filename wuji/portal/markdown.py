"""A deliberately small Markdown subset for the agreement text: headings, bold, links, paragraphs.

The text is escaped first, so nothing in it can inject markup; only http(s) links are turned into anchors.
"""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")


def _inline(text: str) -> str:
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    return _LINK.sub(r'<a href="\2" rel="nofollow noopener">\1</a>', text)


def render_markdown(text: str) -> str:
    blocks = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        heading = _HEADING.match(lines[0])
        if heading and len(lines) == 1:
            level = min(len(heading.group(1)) + 1, 5)  # the page title is <h1>
            blocks.append(f"<h{level}>{_inline(escape(heading.group(2)))}</h{level}>")
        else:
            blocks.append("<p>" + "<br>".join(_inline(escape(line)) for line in lines) + "</p>")
    return mark_safe("\n".join(blocks))
