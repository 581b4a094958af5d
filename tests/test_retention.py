"""Retention, with a clock: a closed campaign's signatures are anonymised
the day its period ends (the site's 180 days, or the campaign's own), with
every export of counts byte for byte the same and nothing personal left in
any table; unconfirmed signatures go 30 days after their last email, with
the counts kept true; sent emails are emptied after 30 days. The sweep runs
in batches, carries on where a killed one stopped, changes nothing the
second time or in a dry run, and runs by itself in the outbox worker."""
from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from babel.dates import format_date, format_time
from sqlalchemy import func, select, update

from campaign import broadcasts, campaigns, counts, exports, moderation, outbox, questions, retention, signing
from campaign.extensions import db
from campaign.models import (
    Campaign,
    CampaignStatus,
    Invalidation,
    Kind,
    MailboxAllowance,
    Organiser,
    OutboxMessage,
    OutboxStatus,
    Signature,
    SignatureStatus,
    utcnow,
)

from .builders import (
    at_once,
    confirm,
    confirm_link,
    confirmed_signatures,
    csrf_token,
    fan_out_all,
    log_in,
    make_campaign,
    make_organiser,
    personal_traces,
    sign,
)

DAY = dt.timedelta(days=1)


@pytest.fixture
def clock(monkeypatch):
    """Sets the time the sweep measures its periods from (naive UTC)."""
    def set_to(moment: dt.datetime) -> None:
        monkeypatch.setattr(retention, "clock", lambda: moment)
    return set_to


@pytest.fixture(autouse=True)
def worker_sweeps_when_told(monkeypatch):
    """Each test starts with the worker due a sweep, as a new process is."""
    monkeypatch.setattr(retention, "_next_sweep_at", {})


def close(campaign: Campaign) -> dt.datetime:
    """Close as the organiser's button does; returns when it closed."""
    campaigns.set_status(campaign, CampaignStatus.CLOSED)
    return db.session.get(Campaign, campaign.id).closed_at


def rows_of(campaign_id: int) -> list[Signature]:
    db.session.expire_all()
    return list(db.session.execute(select(Signature).where(Signature.campaign_id == campaign_id)
                                   .order_by(Signature.id)).scalars())


def anonymised(campaign_id: int) -> int:
    return sum(1 for row in rows_of(campaign_id) if row.anonymised_at is not None)


def snapshot() -> dict:
    """Every row of every table, as the database holds it."""
    db.session.expire_all()
    return {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables}


# --- On the right day ------------------------------------------------------------------

def test_signatures_are_anonymised_on_the_day_the_period_after_closing_ends(ctx, clock):
    """The site's 180 days for one campaign, its own 30 for another: the day
    before each, nothing; the day after, every signature."""
    usual = make_campaign(slug="usual")
    own = make_campaign(slug="own-period", retention_days=30)
    confirmed_signatures(usual, [("a@example.com", "GB"), ("b@example.com", "FR")])
    confirmed_signatures(own, [("c@example.com", "DE")])
    closed = close(usual)
    close(own)

    clock(closed + 30 * DAY - DAY)
    retention.sweep()
    assert anonymised(usual.id) == 0 and anonymised(own.id) == 0
    clock(closed + 30 * DAY + DAY)
    retention.sweep()
    assert anonymised(usual.id) == 0 and anonymised(own.id) == 1

    clock(closed + 180 * DAY - DAY)
    retention.sweep()
    assert anonymised(usual.id) == 0
    clock(closed + 180 * DAY + DAY)
    report = retention.sweep()
    assert anonymised(usual.id) == 2
    assert report.campaigns[usual.id].anonymised == 2 and report.campaigns[usual.id].done
    assert db.session.get(Campaign, usual.id).anonymised_at == closed + 181 * DAY


def test_a_live_or_reopened_campaign_is_never_anonymised(ctx, clock):
    """Only a closed campaign's period runs; opening it again stops it, and
    closing it again starts it afresh."""
    live = make_campaign(slug="still-live")
    reopened = make_campaign(slug="reopened")
    confirmed_signatures(live, [("a@example.com", "GB")])
    confirmed_signatures(reopened, [("b@example.com", "GB")])
    first_close = close(reopened)
    campaigns.set_status(reopened, CampaignStatus.LIVE)
    assert db.session.get(Campaign, reopened.id).closed_at is None
    clock(first_close + 400 * DAY)
    retention.sweep()
    assert anonymised(live.id) == 0 and anonymised(reopened.id) == 0


def test_the_site_default_period_is_a_setting(ctx, clock, app):
    app.config["RETENTION_DAYS_AFTER_CLOSE"] = 7
    campaign = make_campaign(slug="short-default")
    confirmed_signatures(campaign, [("a@example.com", "GB")])
    closed = close(campaign)
    clock(closed + 7 * DAY - dt.timedelta(seconds=1))
    retention.sweep()
    assert anonymised(campaign.id) == 0
    clock(closed + 7 * DAY)
    retention.sweep()
    assert anonymised(campaign.id) == 1


# --- What is kept: every count, byte for byte ------------------------------------------------

def at(day: dt.date, hh=12, mm=0, ss=0, us=0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, us)


@pytest.fixture
def counted(ctx):
    """A campaign with confirmed signatures over three days (one at the last
    microsecond of a day), four countries and two sources, one invalidated
    and one pending; another campaign beside it."""
    campaign = make_campaign(slug="counted")
    d1, d2, d3 = dt.date(2031, 3, 1), dt.date(2031, 3, 2), dt.date(2031, 3, 5)
    confirmed_on = {
        ("gb1@example.com", "GB"): at(d1, 23, 59, 59, 999999), ("gb2@example.com", "GB"): at(d2, 0, 0, 0),
        ("fr1@example.com", "FR"): at(d1, 8), ("fr2@example.com", "FR"): at(d2, 9),
        ("de1@example.com", "DE"): at(d3, 17), ("us1@example.com", "US"): at(d2, 22),
        ("bad@example.com", "GB"): at(d1, 10),
    }
    made = confirmed_signatures(campaign, [(email, country, i % 2 == 0)
                                           for i, (email, country) in enumerate(confirmed_on)])
    for i, (signature, when) in enumerate(zip(made, confirmed_on.values())):
        db.session.execute(update(Signature).where(Signature.id == signature.id).values(
            confirmed_at=when, created_at=when - dt.timedelta(minutes=3), source="newsletter" if i % 3 else None))
    db.session.commit()
    signing.sign(campaign, signing.Pledge("Pat", "Pending", "pending@example.com", "JP", None, False, False))
    counts.recount(campaign)
    moderation.invalidate(campaign, moderation.Criteria(email="bad@example.com"), None, "duplicate")
    confirmed_signatures(make_campaign(slug="beside"), [("other@example.com", "GB")])
    make_organiser(campaigns=[campaign])
    return campaign


def every_export(client) -> dict:
    answers = {}
    for by in exports.BY_CHOICES:
        for fmt in exports.FORMAT_CHOICES:
            response = client.get(f"/organiser/c/counted/export/counts?by={by}&format={fmt}")
            assert response.status_code == 200
            answers[by, fmt] = response.get_data()
    return answers


def test_every_export_of_counts_is_byte_identical_after_anonymising(counted, client, clock):
    """By day, country, source and in total, CSV and JSON: the same bytes
    after the sweep, and after a recount from the anonymised rows."""
    log_in(client)
    closed = close(counted)
    before = every_export(client)
    figures = counts.status_counts(counted.id)
    assert before["day", "csv"] == b"date,signatures\n2031-03-01,2\n2031-03-02,3\n2031-03-05,1\n"

    clock(closed + 181 * DAY)
    retention.sweep()
    # Exactly one signature, the pending one, was deleted: it was never counted.
    assert anonymised(counted.id) == 7
    assert every_export(client) == before
    assert counts.status_counts(counted.id) == {**figures, (SignatureStatus.PENDING.value, False): 0}
    counts.recount(db.session.get(Campaign, counted.id))
    assert every_export(client) == before
    assert {k: v for k, v in counts.status_counts(counted.id).items() if v} == \
        {k: v for k, v in figures.items() if k[0] != SignatureStatus.PENDING}
    # The times become their day; the day itself, the country and the status stay.
    kept = {(row.country, row.status, row.confirmed_at) for row in rows_of(counted.id)}
    assert (("GB", "confirmed", dt.datetime(2031, 3, 1)) in kept and ("GB", "invalidated", dt.datetime(2031, 3, 1))
            in kept)
    assert all(row.created_at.time() == dt.time() for row in rows_of(counted.id))


def test_an_invalidation_undone_after_anonymising_counts_again_without_a_clash(counted, clock):
    """The anonymised addresses are unique placeholders: a batch undone
    afterwards comes back into the count and the live-address index."""
    closed = close(counted)
    clock(closed + 181 * DAY)
    retention.sweep()
    before = counts.signature_count(counted.id)
    batch = db.session.execute(select(Invalidation)).scalar_one()
    assert moderation.undo_invalidation(batch) == 1
    assert counts.signature_count(counted.id) == before + 1
    assert {row.email_normalised for row in rows_of(counted.id)} == {f"anonymised-{row.id}"
                                                                     for row in rows_of(counted.id)}


# --- Nothing personal survives ------------------------------------------------------------------

NAME, FAMILY, EMAIL, POSTCODE = "Zebedee", "Quillfeather", "Zebedee.Q+petitions@Quillfeather.example.org", "ZQ9 9QZ"




def test_nothing_personal_survives_in_any_table(app, client, smtp, deliver, clock):
    """A signer who gave everything a form can ask (name, address, postcode,
    a question's answer, a date, a reason), was emailed an update, and was
    invalidated by address and restored: after the sweep no text column of
    any table holds their name, address, postcode or network address hash."""
    with app.app_context():
        campaign = make_campaign(slug="everything", kind=Kind.PLEDGE, asks_date=True, asks_reason=True,
                                 date_question="I will log off from", postcode_required=True)
        question = questions.add_question(campaign, "Which feed do you use most?", "text")
        organiser_id = make_organiser(campaigns=[campaign]).id
        campaign_id, field = campaign.id, f"question_{question.id}"
    sign(client, "everything", given_name=NAME, family_name=FAMILY, email=EMAIL, postal_code=POSTCODE,
         email_opt_in="y", show_name="y", reason_public="y", reason=f"{FAMILY} family tradition",
         pledge_date=(dt.date.today() + 10 * DAY).isoformat(), **{field: f"{NAME}'s own feed"})
    deliver()
    assert confirm(client, confirm_link(smtp.received[0].text)).status_code == 200
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        ip_hash, code = signature.ip_hash, signature.referral_code
        assert ip_hash and signature.answers and signature.reason and code
        campaign = db.session.get(Campaign, campaign_id)
        batch = moderation.invalidate(campaign, moderation.Criteria(email=EMAIL, name=FAMILY), None,
                                      f"looked like {EMAIL}")
        moderation.undo_invalidation(batch)
        broadcasts.schedule(broadcasts.create_update(campaign, db.session.get(Organiser, organiser_id), "News",
                                                     "Dear supporters, thank you."))
        fan_out_all()
    deliver()
    assert [m.to.lower() for m in smtp.received][-1:] == [EMAIL.lower()]
    with app.app_context():
        needles = [NAME, FAMILY, EMAIL, POSTCODE, "quillfeather.example", ip_hash, code]
        assert {table for table, _, _ in personal_traces(needles)} >= {
            "signature", "outbox_message", "invalidation", "mailbox_allowance"}
        closed = close(db.session.get(Campaign, campaign_id))
        clock(closed + 181 * DAY)
        retention.sweep()
        assert personal_traces(needles) == []
        [row] = rows_of(campaign_id)
        assert (row.status, row.country, row.email_opt_in, row.show_name, row.unsubscribed_at is not None) == (
            "confirmed", "GB", True, False, True)
        sent = db.session.execute(select(OutboxMessage.kind, OutboxMessage.status)).all()
        assert sorted(sent) == [("confirmation", "sent"), ("update", "sent")]


def test_an_anonymised_signature_is_never_emailed_again(app, client, smtp, deliver, clock):
    """An update sent to a closed campaign's supporters after the sweep
    reaches nobody it was anonymised for."""
    with app.app_context():
        campaign = make_campaign(slug="afterwards")
        organiser = make_organiser(campaigns=[campaign])
        confirmed_signatures(campaign, [("keen@example.com", "GB", True)])
        closed = close(campaign)
        assert broadcasts.recipient_count(db.session.get(Campaign, campaign.id)) == 1
        clock(closed + 181 * DAY)
        retention.sweep()
        assert broadcasts.recipient_count(db.session.get(Campaign, campaign.id)) == 0
        broadcasts.schedule(broadcasts.create_update(db.session.get(Campaign, campaign.id), organiser, "Later",
                                                     "Still here."))
        fan_out_all()
    smtp.reset()
    deliver()
    assert smtp.received == []


# --- Unconfirmed signatures --------------------------------------------------------------------

def test_a_pending_signature_is_deleted_thirty_days_after_its_last_email_and_counts_stay_true(ctx, clock, app):
    campaign = make_campaign(slug="unconfirmed")
    confirmed_signatures(campaign, [("yes@example.com", "GB")])
    for email in ("old@example.com", "asked-again@example.com"):
        signing.sign(campaign, signing.Pledge("Pat", "Pending", email, "FR", None, False, False))
    signed_at = db.session.execute(select(func.min(Signature.created_at))).scalar_one()
    # A second email with the link ten days later gives that link (and the row) ten more days.
    db.session.execute(update(Signature).where(Signature.email == "asked-again@example.com")
                       .values(last_emailed_at=signed_at + 10 * DAY))
    db.session.commit()
    assert counts.status_counts(campaign.id)[SignatureStatus.PENDING.value, False] == 2

    def pending() -> list[str]:
        return sorted(row.email for row in rows_of(campaign.id) if row.status == SignatureStatus.PENDING)

    clock(signed_at + 30 * DAY - dt.timedelta(minutes=1))
    retention.sweep()
    assert pending() == ["asked-again@example.com", "old@example.com"]
    clock(signed_at + 30 * DAY + dt.timedelta(minutes=1))
    report = retention.sweep()
    assert pending() == ["asked-again@example.com"]
    assert report.campaigns[campaign.id].pending_deleted == 1
    clock(signed_at + 40 * DAY + dt.timedelta(minutes=1))
    retention.sweep()
    assert pending() == []

    figures = counts.status_counts(campaign.id)
    assert figures[SignatureStatus.PENDING.value, False] == 0
    assert counts.signature_count(campaign.id) == 1
    # A recount from the rows finds the same.
    counts.recount(db.session.get(Campaign, campaign.id))
    assert {k: v for k, v in counts.status_counts(campaign.id).items() if v} == \
        {k: v for k, v in figures.items() if v}
    # Their confirmation emails went with them, emptied.
    assert db.session.execute(select(OutboxMessage.recipient, OutboxMessage.signature_id)
                              .where(OutboxMessage.recipient.like("%asked-again%"))).all() == []


def test_the_pending_period_is_a_setting_and_zero_keeps_them(ctx, clock, app):
    campaign = make_campaign(slug="patient")
    signing.sign(campaign, signing.Pledge("Pat", "Pending", "slow@example.com", "FR", None, False, False))
    signed_at = rows_of(campaign.id)[0].created_at
    app.config["RETENTION_PENDING_DAYS"] = 0
    clock(signed_at + 400 * DAY)
    retention.sweep()
    assert len(rows_of(campaign.id)) == 1
    app.config["RETENTION_PENDING_DAYS"] = 5
    clock(signed_at + 5 * DAY + dt.timedelta(seconds=1))
    retention.sweep()
    assert rows_of(campaign.id) == []


# --- Sent emails -----------------------------------------------------------------------------------

def message(status: OutboxStatus, due_at: dt.datetime, recipient="someone@example.org") -> int:
    outbox.enqueue("confirmation", recipient, subject=f"Hello {recipient}", body_text=f"Dear {recipient}",
                   body_html=f"<p>Dear {recipient}</p>", headers={"List-Unsubscribe": f"<mailto:{recipient}>"})
    row = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).scalar_one()
    row.status, row.due_at, row.message_id = status, due_at, "<id@campaigns.test>"
    row.sent_at = due_at if status == OutboxStatus.SENT else None
    row.last_error = f"550 {recipient} unknown" if status == OutboxStatus.FAILED else None
    db.session.commit()
    return row.id


def test_finished_emails_are_emptied_thirty_days_after_they_were_last_due(ctx, clock):
    """Sent, skipped and dead letters lose recipient, subject, bodies,
    headers and error; kind, status and times stay. A message still queued
    is left alone, however old."""
    now = utcnow()
    ids = {status: message(status, now, f"{status}@example.org") for status in
           (OutboxStatus.SENT, OutboxStatus.SKIPPED, OutboxStatus.FAILED, OutboxStatus.QUEUED)}
    recent = message(OutboxStatus.SENT, now + 5 * DAY, "recent@example.org")

    def row(message_id):
        db.session.expire_all()
        return db.session.get(OutboxMessage, message_id)

    clock(now + 30 * DAY - dt.timedelta(seconds=1))
    assert retention.sweep().outbox_cleared == 0
    assert row(ids[OutboxStatus.SENT]).recipient == "sent@example.org"
    clock(now + 30 * DAY + dt.timedelta(seconds=1))
    assert retention.sweep().outbox_cleared == 3
    for status in (OutboxStatus.SENT, OutboxStatus.SKIPPED, OutboxStatus.FAILED):
        cleared = row(ids[status])
        assert (cleared.recipient, cleared.subject, cleared.body_text, cleared.body_html, cleared.headers,
                cleared.last_error) == ("", "", "", None, None, None)
        assert (cleared.status, cleared.kind, cleared.due_at, cleared.message_id) == (
            status, "confirmation", now, "<id@campaigns.test>")
    assert row(ids[OutboxStatus.SENT]).sent_at == now
    assert row(ids[OutboxStatus.QUEUED]).recipient == "queued@example.org"
    assert row(recent).recipient == "recent@example.org"
    assert personal_traces(["sent@example.org", "skipped@example.org", "failed@example.org"]) == []


# --- Batches, resuming, dry runs, running twice ------------------------------------------------------

@pytest.fixture
def closed_long_ago(ctx, clock, app):
    """Five confirmed signatures of a campaign past its period, one old
    pending signature of a live one, and an old sent email; batches of 2."""
    app.config["RETENTION_BATCH_SIZE"] = 2
    campaign = make_campaign(slug="long-ago")
    confirmed_signatures(campaign, [(f"s{i}@example.com", "GB") for i in range(5)])
    live = make_campaign(slug="live-one")
    signing.sign(live, signing.Pledge("Pat", "Pending", "old@example.com", "FR", None, False, False))
    message(OutboxStatus.SENT, utcnow(), "sent@example.org")
    closed = close(campaign)
    clock(closed + 181 * DAY)
    return campaign


def test_a_sweep_killed_after_one_batch_carries_on_where_it_stopped(closed_long_ago, clock, monkeypatch):
    campaign = closed_long_ago
    first = retention.clock()
    made = []
    real = retention._anonymous

    def dies_on_the_second_batch(now):
        made.append(now)
        if len(made) == 2:
            raise KeyboardInterrupt
        return real(now)

    monkeypatch.setattr(retention, "_anonymous", dies_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        retention.sweep()
    assert anonymised(campaign.id) == 2
    assert db.session.get(Campaign, campaign.id).anonymised_at is None

    monkeypatch.setattr(retention, "_anonymous", real)
    clock(first + dt.timedelta(hours=1))
    report = retention.sweep()
    assert report.campaigns[campaign.id].anonymised == 3 and report.campaigns[campaign.id].done
    # The first two were not done again: they keep the first sweep's mark.
    assert [row.anonymised_at for row in rows_of(campaign.id)] == [first] * 2 + [first + dt.timedelta(hours=1)] * 3
    assert report.batches >= 3


def test_a_dry_run_changes_nothing_and_says_what_would_be_done_per_campaign(closed_long_ago, runner):
    before = snapshot()
    result = runner.invoke(args=["privacy", "sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert snapshot() == before
    lines = result.output.splitlines()
    assert lines[0] == "Dry run: nothing is changed."
    assert "outbox: 1 finished message(s) would be cleared" in lines
    assert "live-one: 1 unconfirmed signature(s) would be deleted" in lines
    assert any(line.startswith("long-ago: 5 signature(s) would be anonymised (due since ") for line in lines)


def test_the_command_sweeps_and_a_second_run_changes_nothing_more(closed_long_ago, runner):
    result = runner.invoke(args=["privacy", "sweep"])
    assert result.exit_code == 0, result.output
    assert "outbox: 1 finished message(s) cleared" in result.output
    assert "live-one: 1 unconfirmed signature(s) deleted" in result.output
    assert "long-ago: 5 signature(s) anonymised" in result.output
    after = snapshot()
    again = retention.sweep()
    assert again.changed == 0
    assert snapshot() == after
    assert "long-ago" not in runner.invoke(args=["privacy", "sweep"]).output


def test_a_campaign_not_yet_due_is_announced_with_its_date(ctx, clock, runner):
    campaign = make_campaign(slug="later")
    closed = close(campaign)
    clock(closed + 10 * DAY)
    output = runner.invoke(args=["privacy", "sweep", "--dry-run"]).output
    assert f"later: to be anonymised from {(closed + 180 * DAY).strftime('%Y-%m-%d %H:%M')} UTC" in output


# --- In the outbox worker ------------------------------------------------------------------------------

def test_the_outbox_worker_sweeps_at_most_every_few_minutes(closed_long_ago, app, deliver, smtp):
    campaign_id = closed_long_ago.id
    deliver()
    assert anonymised(campaign_id) == 5
    assert [row.email for row in rows_of(
        db.session.execute(select(Campaign.id).where(Campaign.slug == "live-one")).scalar_one())] == []
    # Within RETENTION_SWEEP_MINUTES the worker does not look again.
    live = db.session.execute(select(Campaign).where(Campaign.slug == "live-one")).scalar_one()
    signing.sign(live, signing.Pledge("Pat", "Pending", "older@example.com", "FR", None, False, False))
    db.session.execute(update(Signature).values(created_at=utcnow() - 100 * DAY))
    db.session.commit()
    deliver()
    assert len(rows_of(live.id)) == 1
    retention._next_sweep_at.clear()
    app.config["RETENTION_SWEEP_MINUTES"] = 0
    deliver()
    assert len(rows_of(live.id)) == 1
    app.config["RETENTION_SWEEP_MINUTES"] = 10
    deliver()
    assert rows_of(live.id) == []


def test_a_worker_short_of_time_carries_on_at_its_next_turn(closed_long_ago, app):
    """With a time limit every turn still does at least a batch, and the
    turns go on until the work is done."""
    app.config["RETENTION_WORKER_SECONDS"] = 1e-9
    turns = 0
    while retention.sweep_in_worker():
        turns += 1
        assert turns < 20
    assert anonymised(closed_long_ago.id) == 5
    assert turns >= 3


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("a real race needs PostgreSQL (set TEST_DATABASE_URL)")


def test_sweeps_on_several_hosts_at_once_do_each_row_once(app, postgres_only, clock):
    """Four sweeps at the same moment over one campaign of 40 signatures and
    20 old pending ones, batches of 3: every row anonymised or deleted once,
    the counts true."""

    app.config["RETENTION_BATCH_SIZE"] = 3
    with app.app_context():
        campaign = make_campaign(slug="raced")
        confirmed_signatures(campaign, [(f"s{i}@example.com", "GB") for i in range(40)])
        for i in range(20):
            signing.sign(campaign, signing.Pledge("Pat", "Pending", f"p{i}@example.com", "FR", None, False, False))
        closed = close(campaign)
        campaign_id = campaign.id
    clock(closed + 181 * DAY)
    reports = at_once(app, retention.sweep)
    with app.app_context():
        reports.append(retention.sweep())  # whatever one left to the others
        done = [r.campaigns.get(campaign_id, retention.CampaignSweep("")) for r in reports]
        assert (sum(d.anonymised for d in done), sum(d.pending_deleted for d in done)) == (40, 20)
        assert anonymised(campaign_id) == 40 and len(rows_of(campaign_id)) == 40
        figures = counts.status_counts(campaign_id)
        assert (figures[SignatureStatus.PENDING.value, False], counts.signature_count(campaign_id)) == (0, 40)


# --- What organisers and signers are told ----------------------------------------------------------------

NEW = "/organiser/campaigns/new"


def campaign_form(**fields) -> dict:
    values = {"kind": "pledge", "slug": "kept-for", "title": "Kept for a while", "summary": "A summary.",
              "story": "", "pledge_text": "I pledge.", "demands": "", "goal": "500", "time_zone": "UTC",
              "window_start": "", "window_end": "", "share_text": "", "next_action": "", "retention_days": ""}
    values.update(fields)
    return values


def submit(client, url=NEW, **fields):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**campaign_form(**fields), "csrf_token": token})


def field_error(page_html: str, field_id: str) -> str | None:
    match = re.search(rf'id="{field_id}-error"><span class="visually-hidden">Error:</span> (.*?)</p>', page_html)
    return html_lib.unescape(match.group(1)) if match else None


WHOLE = "Enter the number of days as a whole number, like 180"
RANGE = "Keep them between 1 and 3,650 days (ten years)"
BAD_DAYS = [
    ("abc", WHOLE), ("1.5", WHOLE), ("1e3", WHOLE), ("180 days", WHOLE), ("١٨٠", WHOLE), ("１８０", WHOLE),
    ("+90", WHOLE), ("9" * 5000, RANGE), ("0", RANGE), ("-5", RANGE), ("3651", RANGE), ("\x00", WHOLE),
    ("{{ 7*7 }}", WHOLE), ("' OR 1=1 --", WHOLE), ("😀" * 50, WHOLE), ("1 2", WHOLE),
]


@pytest.mark.parametrize("value, message", BAD_DAYS, ids=[f"bad-{i}" for i in range(len(BAD_DAYS))])
def test_a_bad_retention_period_is_refused_with_a_message(ctx, client, value, message):
    make_organiser()
    log_in(client)
    response = submit(client, retention_days=value)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "retention_days") == message
    assert db.session.execute(select(func.count()).select_from(Campaign)).scalar_one() == 0


@pytest.mark.parametrize("value, stored", [("", None), ("  ", None), ("1", 1), (" 90 ", 90), ("3650", 3650),
                                           ("0030", 30)])
def test_a_good_retention_period_is_saved(ctx, client, value, stored):
    make_organiser()
    log_in(client)
    assert submit(client, retention_days=value).status_code == 303
    assert db.session.execute(select(Campaign.retention_days)).scalar_one() == stored


def test_the_campaign_page_and_the_privacy_notice_say_how_long_details_are_kept(ctx, client):
    make_organiser()
    log_in(client)
    submit(client, retention_days="")
    campaigns.set_status(db.session.execute(select(Campaign)).scalar_one(), CampaignStatus.LIVE)
    sentence = re.compile(r"<span data-retention>(.*?)</span>")
    page = client.get("/c/kept-for").get_data(as_text=True)
    assert sentence.search(page).group(1) == ("We keep your details for 180 days after the campaign closes, then "
                                              "remove them: your signature still counts, with no name or address.")
    assert submit(client, "/organiser/c/kept-for/edit", retention_days="1").status_code == 303
    page = client.get("/c/kept-for").get_data(as_text=True)
    assert sentence.search(page).group(1).startswith("We keep your details for 1 day after the campaign closes")
    privacy = client.get("/privacy").get_data(as_text=True)
    assert "180 days after a campaign closes, every signature to it is anonymised" in privacy
    assert "is deleted 30 days after our last email about it" in privacy
    assert "emptied 30 days after sending" in privacy
    edit = client.get("/organiser/c/kept-for/edit").get_data(as_text=True)
    assert 'name="retention_days"' in edit and 'value="1"' in edit and "the site’s default: 180 days" in edit


def day_and_time(moment: dt.datetime) -> str:
    """A moment as the English dashboard writes it: Mar 7, 2026, 6:05\u202fPM."""
    return f"{format_date(moment, 'medium', locale='en')}, {format_time(moment, 'short', locale='en')}"


def test_the_dashboard_says_what_will_be_anonymised_and_when(ctx, client, clock):
    campaign = make_campaign(slug="watched")
    confirmed_signatures(campaign, [("a@example.com", "GB"), ("b@example.com", "FR")])
    make_organiser(campaigns=[campaign])
    log_in(client)
    retention_text = re.compile(r'<p data-retention="(\w+)">(.*?)</p>', re.S)

    def said():
        match = retention_text.search(client.get("/organiser/c/watched/").get_data(as_text=True))
        return match.group(1), html_lib.unescape(match.group(2))

    assert said() == ("kept", "Signers’ personal details are kept until 180 days after the campaign closes, then "
                              "anonymised; the counts stay.")
    closed = close(campaign)
    state, text = said()
    assert state == "due"
    assert text.startswith(f"From {day_and_time(closed + 180 * DAY)} (UTC), the personal details "
                           "of its 2 signatures will be anonymised")
    clock(closed + 181 * DAY)
    retention.sweep()
    assert said() == ("done", f"Its signatures were anonymised on {day_and_time(closed + 181 * DAY)} "
                              "(UTC); the counts and their exports are unchanged.")


def test_a_mailbox_allowance_is_forgotten_once_its_day_has_passed(ctx, clock):
    mailbox_rows = lambda: db.session.execute(select(func.count()).select_from(MailboxAllowance)).scalar_one()
    campaign = make_campaign(slug="allowance")
    signing.sign(campaign, signing.Pledge("Al", "Lowance", "al@example.com", "GB", None, False, False))
    from campaign import mailboxes
    mailboxes.spend_allowances(["al@example.com"], utcnow())
    db.session.commit()
    clock(utcnow() + 2 * DAY)
    retention.sweep()
    assert mailbox_rows() == 0


def test_reasons_shown_on_a_closed_campaigns_page_leave_it_when_it_is_anonymised(app, client, clock):
    """The page is built once per edition, reasons and all: anonymising the
    campaign makes a new edition, so the cleared reasons are not shown
    from the copy built before."""
    with app.app_context():
        campaign = make_campaign(slug="walk-away", kind=Kind.PLEDGE, asks_reason=True)
        [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
        db.session.execute(update(Signature).where(Signature.id == signature.id).values(
            reason="My evenings are mine again.", reason_public=True, reason_status="approved"))
        db.session.commit()
        closed = close(campaign)
    assert "My evenings are mine again." in client.get("/c/walk-away").get_data(as_text=True)
    with app.app_context():
        clock(closed + 181 * DAY)
        assert retention.sweep().campaigns[campaign.id].done
    assert "My evenings are mine again." not in client.get("/c/walk-away").get_data(as_text=True)
