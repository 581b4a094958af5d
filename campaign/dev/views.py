"""/dev/mail: read the caught development emails (debug only)."""
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup, escape

from .mailcatcher import get_mail, list_mail

bp = Blueprint("dev", __name__, url_prefix="/dev")

_LINK = re.compile(r"https?://[^\s<>\"]+")


@bp.before_request
def debug_only():
    """Never exists outside debug: the caught mail holds people's addresses."""
    if not current_app.debug:
        abort(404)


def mail_folder() -> Path:
    return Path(current_app.config["DEV_MAIL_FOLDER"] or Path(current_app.instance_path) / "mail")


def linkify(text: str) -> Markup:
    """Escape plain text and make its URLs clickable."""
    escaped = str(escape(text))
    return Markup(_LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


@bp.get("/mail")
def mailbox():
    return render_template("dev/mailbox.html", messages=list_mail(mail_folder()))


@bp.get("/mail/<mail_id>")
def message(mail_id: str):
    caught = get_mail(mail_folder(), mail_id)
    if caught is None:
        abort(404)
    return render_template("dev/message.html", message=caught, text=linkify(caught.text))
