"""Organisers send updates; every opted-in supporter gets one, once; anyone
can leave with one click."""
import datetime as dt
import re

from sqlalchemy import func, select, update

from campaign import broadcasts, counts, outbox
from campaign.extensions import db
from campaign.models import Campaign, CampaignUpdate, OutboxMessage, OutboxStatus, Signature, UpdateStatus

from .builders import confirmed_signatures, csrf_token, fan_out_all, log_in, make_campaign, make_organiser


def supporters(campaign, n, opt_in=True, prefix="fan"):
    """Confirmed signers; their confirmation emails count as delivered long ago."""
    made = confirmed_signatures(campaign, [(f"{prefix}{i}@example.com", "GB", opt_in) for i in range(n)])
    db.session.execute(update(OutboxMessage).where(OutboxMessage.kind == "confirmation")
                       .values(status=OutboxStatus.SENT))
    db.session.commit()
    return made


def write_update(client, slug, action, subject="News from the campaign", body="We **did it**.", **extra):
    page = client.get(f"/organiser/c/{slug}/updates/new")
    return client.post(f"/organiser/c/{slug}/updates/new", data={
        "subject": subject, "body": body, "action": action,
        "csrf_token": csrf_token(page.get_data(as_text=True)), **extra})


def unsubscribe_path(message):
    return re.search(r"<https?://[^/]+(/unsubscribe/[^>]+)>", message.message["List-Unsubscribe"]).group(1)


def test_an_organiser_previews_tests_and_sends_an_update(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="news", title="News campaign")
        make_organiser("org@example.com", campaigns=[campaign])
        supporters(campaign, 3)
        supporters(campaign, 2, opt_in=False, prefix="quiet")
    log_in(client, "org@example.com")

    preview = write_update(client, "news", "preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Send to 3 supporters" in html
    assert "Plain-text version" in html and "HTML version" in html
    assert "&lt;strong&gt;did it&lt;/strong&gt;" in html  # the HTML version, escaped into srcdoc

    write_update(client, "news", "test")
    deliver()
    [test] = smtp.to("org@example.com")
    assert test.subject == "[Test] News from the campaign"

    sent = write_update(client, "news", "send")
    assert sent.status_code == 303
    confirm_page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Yes, send now to 3 supporters" in confirm_page
    deliver()
    assert len(smtp.received) == 1, "nothing is sent before the confirmation step"

    client.post(sent.headers["Location"], data={"csrf_token": csrf_token(confirm_page)})
    deliver()
    received = [m for m in smtp.received if m.subject == "News from the campaign"]
    assert sorted(m.to for m in received) == ["fan0@example.com", "fan1@example.com", "fan2@example.com"]
    first = received[0].message
    assert first.get_body(preferencelist=("plain",)) and first.get_body(preferencelist=("html",))
    assert "Hello Sam," in received[0].text
    assert "http://campaigns.test/c/news" in received[0].text
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["List-Unsubscribe"].strip().startswith("<http://campaigns.test/unsubscribe/")
    assert unsubscribe_path(received[0]) in received[0].text and unsubscribe_path(received[0]) in received[0].html

    with app.app_context():
        row = db.session.execute(select(CampaignUpdate)).scalar_one()
        assert row.status == UpdateStatus.SENT and row.recipients == 3
        progress = client.get(f"/organiser/c/news/updates/{row.id}").get_data(as_text=True)
        assert 'data-figure="sent">3<' in progress


def test_the_confirmation_email_has_no_list_headers(app, client, smtp, deliver):
    from .builders import sign
    with app.app_context():
        make_campaign(slug="plain")
    sign(client, "plain", email="new@example.com")
    deliver()
    [confirmation] = smtp.received
    assert confirmation.message["List-Unsubscribe"] is None
    assert confirmation.message["List-Unsubscribe-Post"] is None


def test_one_click_unsubscribe_without_cookies(app, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="leave")
        supporters(campaign, 2)
        row = broadcasts.create_update(campaign, None, "First", "One")
        broadcasts.schedule(row)
        campaign_id = campaign.id
    deliver()
    path = unsubscribe_path(smtp.to("fan0@example.com")[0])

    cookieless = app.test_client(use_cookies=False)
    page = cookieless.get(path)
    assert page.status_code == 200 and "Unsubscribe from this campaign" in page.get_data(as_text=True)
    assert "Stop all emails from this site" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Signature).where(Signature.email == "fan0@example.com")
                                  ).scalar_one().unsubscribed_at is None, "GET changes nothing"

    for _ in range(2):  # repeating is harmless
        response = cookieless.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert "Set-Cookie" not in response.headers

    with app.app_context():
        second = broadcasts.create_update(db.session.get(Campaign, campaign_id), None, "Second", "Two")
        broadcasts.schedule(second)
    smtp.reset()
    deliver()
    assert [m.to for m in smtp.received] == ["fan1@example.com"]


def test_stop_all_email_covers_every_campaign(app, smtp, deliver):
    with app.app_context():
        one, two = make_campaign(), make_campaign()
        supporters(one, 1)
        supporters(two, 1)
        broadcasts.schedule(broadcasts.create_update(one, None, "From one", "x"))
        two_id = two.id
    deliver()
    path = unsubscribe_path(smtp.received[0])
    app.test_client(use_cookies=False).post(path, data={"scope": "all"})
    with app.app_context():
        broadcasts.schedule(broadcasts.create_update(db.session.get(Campaign, two_id), None, "From two", "y"))
    smtp.reset()
    deliver()
    assert smtp.received == []


def test_unsubscribing_stops_deliveries_already_queued(app, smtp):
    with app.app_context():
        campaign = make_campaign()
        [signature] = supporters(campaign, 1)
        broadcasts.schedule(broadcasts.create_update(campaign, None, "Queued", "z"))
        fan_out_all()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.update_id.is_not(None))) == 1
        from campaign import subscriptions
        subscriptions.unsubscribe(signature)
        result = outbox.drain()
        assert result.sent == 0 and result.skipped == 1
    assert smtp.received == []


def test_a_scheduled_update_waits_and_can_be_cancelled(app, smtp, deliver):
    with app.app_context():
        campaign = make_campaign()
        supporters(campaign, 2)
        later = broadcasts.create_update(campaign, None, "Later", "l")
        broadcasts.schedule(later, dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1))
        later_id = later.id
    deliver()
    assert smtp.received == []
    with app.app_context():
        row = db.session.get(CampaignUpdate, later_id)
        broadcasts.cancel(row)
        db.session.execute(update(CampaignUpdate).values(scheduled_at=dt.datetime(2000, 1, 1)))
        db.session.commit()
    deliver()
    assert smtp.received == []


def test_each_supporter_gets_an_update_once_and_fan_out_resumes(app, smtp, deliver):
    with app.app_context():
        app.config["BROADCAST_BATCH_SIZE"] = 3
        campaign = make_campaign()
        supporters(campaign, 10)
        row = broadcasts.create_update(campaign, None, "Batched", "b")
        broadcasts.schedule(row)
        row_id = row.id
        assert broadcasts.fan_out_batch()
        # A crash after the first batch: the cursor says where to resume.
        db.session.remove()
        assert db.session.get(CampaignUpdate, row_id).recipients == 3
        # Resuming from an older cursor (as if the commit had raced) adds nobody twice.
        db.session.execute(update(CampaignUpdate).values(fanout_cursor=0))
        db.session.commit()
    deliver()
    assert sorted(m.to for m in smtp.received) == sorted(f"fan{i}@example.com" for i in range(10))


def test_milestone_emails_go_once_per_milestone(app, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(goal=2, milestone_emails=True, title="Milestones")
        supporters(campaign, 2)
        campaign_id = campaign.id
    deliver()
    assert [m.subject for m in smtp.received] == ["We reached 2 signatures: Milestones"] * 2
    smtp.reset()
    deliver()
    assert smtp.received == []
    with app.app_context():
        supporters(db.session.get(Campaign, campaign_id), 4, prefix="more")
    deliver()
    assert {m.subject for m in smtp.received} == {"We reached 5 signatures: Milestones"}
    assert len(smtp.received) == 6


def test_milestones_follow_the_rising_goal():
    assert counts.reached_milestone(1, 2, False) is None
    assert counts.reached_milestone(2, 2, False) == 2
    assert counts.reached_milestone(7, 2, False) == 5
    assert counts.reached_milestone(10, 2, False) == 10
    assert counts.reached_milestone(1999, 1000, False) == 1000
    assert counts.reached_milestone(5000, 1000, True) == 1000


def test_a_mail_merged_update_reads_the_same_as_one_rendered_alone(ctx):
    """Each supporter's copy is filled into a skeleton built once per update;
    what a mail client shows must equal the update rendered for that person."""
    import email
    import email.policy

    from campaign.update_mail import render_update, update_merge

    campaign = make_campaign(title="Tïtle with ümlauts")
    row = CampaignUpdate(campaign=campaign, subject="Nëws: " + "a very long subject line " * 6,
                         body="Hello **world**. " + "word " * 400 + "\n\n[link](https://example.org/?a=1&b=2)")
    ctx.config["MAIL_DEFAULT_SENDER"] = "Campaign Sïte <noreply@campaigns.test>"
    merge = update_merge(row)
    link = "http://campaigns.test/unsubscribe/MQ.abc-_"
    sent = merge.message("zoe@example.org", {"givenname": "Zoë <b>&", "link": link})
    message_id, raw = sent.message_id, sent.raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    alone = render_update(row, "Zoë <b>&", link)
    assert parsed["Subject"] == alone.subject
    assert parsed["To"] == "zoe@example.org"
    assert parsed["From"] == "Campaign Sïte <noreply@campaigns.test>"
    assert parsed["Message-ID"] == message_id
    assert parsed["List-Unsubscribe"] == f"<{link}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == alone.text
    assert parsed.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n") == alone.html
    assert "Hello Zoë &lt;b&gt;&amp;," in alone.html
