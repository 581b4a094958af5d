""""Manage my data": a supporter asks for a link to everything the site
holds about their mailbox, and from it downloads, changes, withdraws or
erases it (see campaign.my_data)."""
from __future__ import annotations

from flask import render_template

from .views import bp


@bp.get("/my-data")
def my_data():
    """The form that emails a supporter a link to their data."""
    return render_template("public/my_data_request.html")
