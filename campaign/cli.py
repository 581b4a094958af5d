"""Command-line interface: flask demo / outbox / campaign / dev."""
from __future__ import annotations

import threading
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from . import businesses, outbox, signing
from .demo import seed_demo_campaigns
from .extensions import db
from .models import BusinessStatus, Campaign

demo_cli = AppGroup("demo", help="Demo content.")
outbox_cli = AppGroup("outbox", help="The email outbox.")
campaign_cli = AppGroup("campaign", help="Campaign administration.")
dev_cli = AppGroup("dev", help="Local development.")


def _campaign_or_fail(slug: str) -> Campaign:
    campaign = db.session.execute(select(Campaign).where(Campaign.slug == slug)).scalar_one_or_none()
    if campaign is None:
        raise click.ClickException(f"No campaign with slug {slug!r}.")
    return campaign


@demo_cli.command("seed")
def demo_seed():
    """Create the three demo campaigns (running it again changes nothing)."""
    created = seed_demo_campaigns()
    click.echo(f"Demo campaigns: {len(created)} created." if created else "Demo campaigns already present.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver everything due, then exit.")
def outbox_work(once: bool):
    """Deliver due emails (a long-lived worker unless --once)."""
    if once:
        result = outbox.drain()
        click.echo(f"sent {result.sent}, retry later {result.retried}, failed {result.failed}")
        return
    click.echo("Outbox worker running; Ctrl-C to stop.")
    stop = threading.Event()
    try:
        outbox.run_worker(current_app._get_current_object(), stop)
    except KeyboardInterrupt:
        stop.set()


@outbox_cli.command("status")
def outbox_status():
    """Print the number of messages in each state."""
    for status, n in outbox.status_counts().items():
        click.echo(f"{status:8} {n}")


@campaign_cli.command("approve-business")
@click.argument("slug")
@click.argument("name")
def approve_business(slug: str, name: str):
    """Approve a business pledge: it appears on the public list."""
    _decide(slug, name, BusinessStatus.APPROVED)


@campaign_cli.command("reject-business")
@click.argument("slug")
@click.argument("name")
def reject_business(slug: str, name: str):
    """Reject a business pledge: it stays off the public list."""
    _decide(slug, name, BusinessStatus.REJECTED)


def _decide(slug: str, name: str, status: BusinessStatus) -> None:
    business = businesses.decide_business(_campaign_or_fail(slug), name, status)
    if business is None:
        raise click.ClickException(f"No business named {name!r} has joined {slug!r}.")
    click.echo(f"{business.organisation}: {status.value}.")


@campaign_cli.command("recount")
@click.argument("slug")
def recount(slug: str):
    """Rebuild the stored counts from the signatures (repairs any drift)."""
    before, after = signing.recount(_campaign_or_fail(slug))
    click.echo(f"{slug}: {before} -> {after}")


@dev_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def dev_serve(host: str, port: int):
    """The development stack: site, outbox worker and mail catcher in one process."""
    from werkzeug.serving import run_simple

    from .dev.mailcatcher import start_catcher
    from .dev.views import mail_folder

    app = current_app._get_current_object()
    if not app.debug:
        raise click.ClickException("flask dev serve is for development: run it with FLASK_DEBUG=1.")
    catcher_port = app.config["DEV_MAIL_CATCHER_PORT"]
    catcher = start_catcher(mail_folder(), catcher_port)
    mail_state = app.extensions["mail"]
    mail_state.server, mail_state.port = "127.0.0.1", catcher_port
    stop = threading.Event()
    worker = threading.Thread(target=outbox.run_worker, args=(app, stop), daemon=True)
    worker.start()
    click.echo(f" * Mail catcher on 127.0.0.1:{catcher_port}; read it at http://{host}:{port}/dev/mail")
    try:
        run_simple(host, port, app, use_debugger=True, use_reloader=False, threaded=True)
    finally:
        stop.set()
        catcher.stop()
