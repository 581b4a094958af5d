"""Organiser Markdown to safe HTML."""
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# CommonMark with raw HTML switched off (it is shown as text), then nh3 as a
# second line of defence: only harmless tags survive, links get
# rel="noopener noreferrer nofollow", and only http(s)/mailto URLs are kept.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td",
}


def render_markdown(text: str | None) -> Markup:
    """Render organiser Markdown to sanitised HTML."""
    html = _md.render(text or "")
    # Organiser headings start at h2: the page's h1 is the campaign title.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
