"""Pages of the site rather than of a campaign, on the public blueprint: the
favicon, drawn from the site settings, and the privacy notice."""
from __future__ import annotations

from flask import Response, render_template, request
from markupsafe import escape

from ..shared_pages import cache_publicly
from ..site_settings import site
from .views import bp


@bp.get("/favicon.svg")
@bp.get("/favicon.ico")
def favicon():
    """The site's initial (or the admins' favicon text) on its accent colour.
    Links carry the settings' version (?v=), so browsers may keep it long."""
    settings = site()
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
           f'<rect width="64" height="64" rx="12" fill="{escape(settings.accent_colour)}"/>'
           '<text x="32" y="44" text-anchor="middle" font-family="system-ui, sans-serif" font-size="34" '
           f'font-weight="700" fill="#fff">{escape(settings.favicon_text[:2])}</text></svg>')
    response = Response(svg, mimetype="image/svg+xml")
    if request.args.get("v") == settings.version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
    return cache_publicly(response)


@bp.get("/privacy")
def privacy():
    """What the site collects, why, for how long, who sees it, and how to
    have it removed."""
    return cache_publicly(Response(render_template("public/privacy.html")))
