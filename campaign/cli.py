"""Command-line interface: flask demo / outbox / campaign / dev."""
from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import audit, businesses, campaigns, counts, exports, moderation, organisers, outbox, questions, retention
from .demo import seed_demo_campaigns
from .models import BusinessStatus, Campaign, QuestionKind

demo_cli = AppGroup("demo", help="Demo content.")
outbox_cli = AppGroup("outbox", help="The outbox: messages waiting to be delivered.")
campaign_cli = AppGroup("campaign", help="Campaign administration.")
dev_cli = AppGroup("dev", help="Local development.")
organiser_cli = AppGroup("organiser", help="Organiser accounts.")
question_cli = AppGroup("question", help="Questions a campaign's sign form asks.")
campaign_cli.add_command(question_cli)
privacy_cli = AppGroup("privacy", help="Personal data: how long it is kept.")


# What the audit log says of a change made here: no organiser, no address.
_BY_COMMAND = {"via": "command line"}


def _campaign_or_fail(slug: str) -> Campaign:
    campaign = campaigns.campaign_by_slug(slug)
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
    """Deliver due messages (a long-lived worker unless --once)."""
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
    """Messages by status and by kind, the oldest waiting, the dead letters."""
    status = outbox.queue_status()
    for name, n in status.by_status.items():
        click.echo(f"{name:8} {n}")
    if status.by_kind:
        click.echo("\nby kind:")
        for kind, by_status in status.by_kind.items():
            figures = ", ".join(f"{name} {n}" for name, n in by_status.items() if n)
            click.echo(f"  {kind:16} {figures}")
    if status.oldest_due is not None:
        click.echo(f"\noldest queued message due at {status.oldest_due.isoformat(timespec='seconds')}Z")
    if status.dead_letters:
        click.echo(f"\ndead letters (latest {len(status.dead_letters)}; flask outbox retry-dead [--kind K]):")
        for row in status.dead_letters:
            click.echo(f"  #{row.id} {row.kind} attempts {row.attempts}: {(row.last_error or '')[:100]}")


@outbox_cli.command("retry-dead")
@click.option("--kind", help="Only messages of this kind (see flask outbox status).")
def outbox_retry_dead(kind: str | None):
    """Put dead letters back in the queue, due now."""
    click.echo(f"{outbox.retry_dead(kind)} message(s) queued again.")


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
    entries = businesses.entries_named(_campaign_or_fail(slug), name)
    if not entries:
        raise click.ClickException(f"No business named {name!r} has joined {slug!r}.")
    if len(entries) > 1:
        domains = ", ".join(entry.contact_domain for entry in entries)
        raise click.ClickException(f"{len(entries)} pledges are named {name!r} (contact domains {domains}): "
                                   "decide each on the businesses screen.")
    [business] = entries
    if not businesses.decide(business, status):
        raise click.ClickException(f"{business.organisation} has not confirmed its pledge from its contact "
                                   "address yet; it can be approved once it has.")
    audit.record_now(f"business.{status.value}", campaign=business.campaign,
                     detail={"business": business.id, **_BY_COMMAND})
    click.echo(f"{business.organisation}: {status.value}.")


@campaign_cli.command("recount")
@click.argument("slug")
def recount(slug: str):
    """Rebuild the stored counts from the signatures (repairs any drift)."""
    before, after = counts.recount(_campaign_or_fail(slug))
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
    thread = threading.Thread(target=outbox.run_worker, args=(app, stop), daemon=True)
    thread.start()
    click.echo(f" * Mail catcher on 127.0.0.1:{catcher_port}; read it at http://{host}:{port}/dev/mail")
    try:
        run_simple(host, port, app, use_debugger=True, use_reloader=False, threaded=True)
    finally:
        stop.set()
        catcher.stop()


@organiser_cli.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Sees every campaign and manages organisers.")
@click.password_option(prompt="Password", confirmation_prompt="Repeat the password")
def organiser_create(email: str, admin: bool, password: str):
    """Create an organiser account (the password is asked for twice)."""
    try:
        organiser = organisers.create_organiser(email, password, is_admin=admin)
    except organisers.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record_now("organiser.created", detail={"organiser": organiser.id, "admin": organiser.is_admin,
                                                  **_BY_COMMAND})
    click.echo(f"Created {'admin' if organiser.is_admin else 'organiser'} {organiser.email}.")


@organiser_cli.command("add")
@click.argument("email")
@click.argument("slug")
def organiser_add(email: str, slug: str):
    """Make an organiser a member of a campaign."""
    organiser = organisers.find_organiser(email)
    if organiser is None:
        raise click.ClickException(f"No organiser with the address {email}.")
    campaign = _campaign_or_fail(slug)
    added = organisers.add_member(organiser, campaign)
    if added:
        audit.record_now("member.added", campaign=campaign, detail={"member": organiser.id, **_BY_COMMAND})
    click.echo(f"{organiser.email} {'is now' if added else 'was already'} a member of {slug}.")


@campaign_cli.command("export")
@click.argument("slug")
@click.option("--by", "by", type=click.Choice(exports.BY_CHOICES), default="total", show_default=True)
@click.option("--format", "fmt", type=click.Choice(exports.FORMAT_CHOICES), default="csv", show_default=True)
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
def campaign_export(slug: str, by: str, fmt: str, output):
    """Signature counts by day, by country, by source (no source: an empty
    one), by language (none recorded: the campaign's default) or in total."""
    campaign = _campaign_or_fail(slug)
    output.write(exports.render_counts(campaign.id, by, fmt))
    audit.record("export.counts", campaign=campaign, detail={"by": by, "format": fmt, **_BY_COMMAND})
    exports.record_export(campaign, None, f"counts by {by} ({fmt}, command line)")  # writes the audit event too


@campaign_cli.command("invalidate")
@click.argument("slug")
@click.option("--email", required=True, help="The address whose signature is withdrawn.")
@click.option("--reason", default="", help="Why, for the record.")
def campaign_invalidate(slug: str, email: str, reason: str):
    """Withdraw one signature; the count drops accordingly."""
    campaign = _campaign_or_fail(slug)
    batch = moderation.invalidate(campaign, moderation.Criteria(email=email), None, reason or "command line")
    audit.record_now("signatures.invalidated", campaign=campaign, detail={
        "invalidation": batch.id, "signatures": batch.signatures, "reason_given": bool(reason),
        "searched_by": ["email"], **_BY_COMMAND})
    if batch.signatures == 0:
        raise click.ClickException(f"No valid signature by {email} on {slug}.")
    click.echo(f"Invalidated {batch.signatures} signature(s) on {slug} (undo: invalidation {batch.id}).")


@question_cli.command("add")
@click.argument("slug")
@click.argument("label")
@click.option("--type", "kind", type=click.Choice([k.value for k in QuestionKind]), default="text",
              show_default=True, help="text, long (a paragraph), yesno or choice.")
@click.option("--choice", "choices", multiple=True, help="An answer to choose from (repeat: two or more).")
@click.option("--required", is_flag=True, help="Signers must answer it.")
@click.option("--no-export", is_flag=True, help="Leave it out of the signer list export.")
def question_add(slug: str, label: str, kind: str, choices: tuple[str, ...], required: bool, no_export: bool):
    """Add a question to the end of a campaign's sign form."""
    try:
        question = questions.add_question(_campaign_or_fail(slug), label, kind, choices=choices,
                                          required=required, in_export=not no_export)
    except questions.QuestionError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record_now("question.added", campaign=question.campaign, detail={"question": question.id, **_BY_COMMAND})
    click.echo(f"Added question {question.id} to {slug}: {question.label}")


@question_cli.command("list")
@click.argument("slug")
def question_list(slug: str):
    """The questions of a campaign's sign form, in order."""
    asked = questions.questions_of(_campaign_or_fail(slug).id)
    if not asked:
        click.echo(f"{slug} asks no questions of its own.")
    for question in asked:
        notes = [question.kind.value, "required" if question.required else "optional"]
        notes += [] if question.in_export else ["not exported"]
        notes += ["hidden"] if question.hidden else []
        choices = f" [{' | '.join(question.choices)}]" if question.choices else ""
        click.echo(f"{question.id}\t{question.label} ({', '.join(notes)}){choices}")


@privacy_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only say what would be done, per campaign; change nothing.")
def privacy_sweep(dry_run: bool):
    """Anonymise closed campaigns past their retention period, delete old
    pending signatures, clear old outbox messages (the worker does it too)."""
    report = retention.sweep(dry_run=dry_run)
    would = "would be " if dry_run else ""
    if dry_run:
        click.echo("Dry run: nothing is changed.")
    click.echo(f"outbox: {report.outbox_cleared:,} finished message(s) {would}cleared")
    for entry in report.campaigns.values():
        if entry.pending_deleted:
            click.echo(f"{entry.slug}: {entry.pending_deleted:,} unconfirmed signature(s) {would}deleted")
        if entry.anonymise_on is None:
            continue
        when = entry.anonymise_on.strftime("%Y-%m-%d %H:%M")
        if entry.anonymise_on > report.now:
            click.echo(f"{entry.slug}: to be anonymised from {when} UTC")
        else:
            click.echo(f"{entry.slug}: {entry.anonymised:,} signature(s) {would}anonymised (due since {when} UTC)"
                       + ("" if dry_run or entry.done else "; not finished, run it again"))
    if not report.finished and not dry_run:
        click.echo("Some rows were held by another sweep: they are left to it (or the next sweep).")
