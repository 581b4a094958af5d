"""The audit log: every organiser action that changes or exports data, and
every login (failed ones too), is one event with who, what, which campaign
and a keyed hash of the client address; nothing personal is kept in it.
Admins read everyone's on the Activity page, with filters; organisers read
their own."""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select

from campaign import audit, businesses, organisers
from campaign.extensions import db
from campaign.identity import hash_ip
from campaign.models import (
    AuditEvent,
    Business,
    Campaign,
    CampaignUpdate,
    Invalidation,
    Kind,
    Organiser,
    SignQuestion,
)

from .builders import PASSWORD, confirmed_signatures, csrf_token, log_in, make_campaign, make_organiser

IP = "203.0.113.7"
ACTIVITY = "/organiser/audit"


@pytest.fixture(autouse=True)
def instance_folder(app, tmp_path):
    """Uploads go to a temporary instance folder."""
    app.instance_path = str(tmp_path / "instance")


@pytest.fixture
def world(app):
    """A boycott with a member, another campaign with its own member, an admin."""
    with app.app_context():
        watch = make_campaign(slug="watch", kind=Kind.BOYCOTT, title="Watch the ads")
        elsewhere = make_campaign(slug="elsewhere", title="Elsewhere")
        org = make_organiser("org@example.com", campaigns=[watch])
        other = make_organiser("other@example.com", campaigns=[elsewhere])
        admin = make_organiser("admin@example.com", is_admin=True)
        return SimpleNamespace(watch=watch.id, elsewhere=elsewhere.id, org=org.id, other=other.id, admin=admin.id,
                               ip_hash=hash_ip(IP))


def browser(app, ip=IP):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def logged_in(app, email, ip=IP):
    client = browser(app, ip)
    assert log_in(client, email).status_code == 303
    return client


def post(client, url, **data):
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.max(AuditEvent.id))) or 0


def events_after(app, mark: int) -> list[AuditEvent]:
    """The events written since ``mark``, oldest first, detached."""
    with app.app_context():
        rows = list(db.session.execute(
            select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id)).scalars())
        db.session.expunge_all()
        return rows


def summary(rows) -> list[tuple]:
    return [(row.action, row.organiser_id, row.campaign_id, row.detail) for row in rows]


def assert_from_ip(rows, world):
    for row in rows:
        assert row.ip_hash == world.ip_hash
        assert re.fullmatch(r"[0-9a-f]{32}", row.ip_hash) and IP not in row.ip_hash


def shown_rows(html: str) -> int:
    return html.count("<time datetime=")


# --- What is recorded -------------------------------------------------------------------

def test_logins_failed_logins_and_logouts_are_recorded(app, world):
    """Each is one event by the organiser, from a hash of the address; a failed
    login for an address with an account names that account."""
    mark = last_id(app)
    client = logged_in(app, "org@example.com")
    assert log_in(browser(app), "org@example.com", "not the password at all").status_code == 422
    assert log_in(browser(app), "nobody@example.net", PASSWORD).status_code == 422
    assert post(client, "/organiser/logout").status_code == 303
    client = logged_in(app, "org@example.com")
    assert post(client, "/organiser/logout-everywhere").status_code == 303
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("login", world.org, None, None),
        ("login.failed", world.org, None, None),
        ("login.failed", None, None, None),
        ("logout", world.org, None, None),
        ("login", world.org, None, None),
        ("logout.everywhere", world.org, None, None),
    ]
    assert_from_ip(rows, world)
    assert all(isinstance(row.created_at, dt.datetime) for row in rows)


def test_a_failed_login_for_an_unknown_address_keeps_nothing_of_the_address(app, world):
    mark = last_id(app)
    assert log_in(browser(app), "Someone.Unknown@example.net", "a guess at a password").status_code == 422
    [row] = events_after(app, mark)
    assert row.action == "login.failed" and row.organiser_id is None
    stored = " ".join(str(getattr(row, column.key)) for column in AuditEvent.__table__.columns).lower()
    assert "someone" not in stored and "example.net" not in stored and "@" not in stored
    assert "guess" not in stored and IP not in stored


def test_account_and_membership_changes_by_an_admin_are_recorded(app, world):
    admin = logged_in(app, "admin@example.com")
    mark = last_id(app)
    created = post(admin, "/organiser/organisers", email="new@example.com", password=PASSWORD)
    assert created.status_code == 303
    with app.app_context():
        new_id = db.session.execute(select(Organiser.id).where(Organiser.email == "new@example.com")).scalar_one()
    account = f"/organiser/organisers/{new_id}/account"
    assert post(admin, account, action="deactivate").status_code == 303
    assert post(admin, account, action="reactivate").status_code == 303
    assert post(admin, "/organiser/c/watch/members", email="other@example.com").status_code == 303
    assert post(admin, f"/organiser/c/watch/members/{world.other}/remove").status_code == 303
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("organiser.created", world.admin, None, {"organiser": new_id, "admin": False}),
        ("organiser.deactivated", world.admin, None, {"organiser": new_id}),
        ("organiser.reactivated", world.admin, None, {"organiser": new_id}),
        ("member.added", world.admin, world.watch, {"member": world.other}),
        ("member.removed", world.admin, world.watch, {"member": world.other}),
    ]
    assert_from_ip(rows, world)
    assert all("new@example.com" not in json.dumps(row.detail) for row in rows)


def campaign_form(**fields) -> dict:
    values = {
        "kind": "pledge", "slug": "log-off-sunday", "title": "Log off on Sunday",
        "summary": "One day a month without the feed.", "story": "Because enough.",
        "pledge_text": "I will log off on the first Sunday.", "demands": "Chronological feeds",
        "goal": "500", "time_zone": "UTC", "window_start": "", "window_end": "",
        "share_text": "I am logging off.", "next_action": "Tell your friends.",
    }
    values.update(fields)
    return values


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), "green").save(out, "PNG")
    return out.getvalue()


def test_creating_editing_and_publishing_a_campaign_are_recorded(app, world):
    """Created; edited (with the names of the fields that changed); its image
    changed; its status changed (to and from)."""
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    assert post(client, "/organiser/campaigns/new", **campaign_form()).status_code == 303
    edit = "/organiser/c/log-off-sunday/edit"
    assert post(client, edit, **campaign_form(title="Log off every Sunday", goal="800")).status_code == 303
    token = csrf_token(client.get(edit).get_data(as_text=True))
    with_image = client.post(edit, data={**campaign_form(title="Log off every Sunday", goal="800"),
                                         "csrf_token": token, "image": (io.BytesIO(png()), "a.png")},
                             content_type="multipart/form-data")
    assert with_image.status_code == 303
    assert post(client, "/organiser/c/log-off-sunday/status", action="live").status_code == 303
    with app.app_context():
        new_id = db.session.execute(select(Campaign.id).where(Campaign.slug == "log-off-sunday")).scalar_one()
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("campaign.created", world.org, new_id, None),
        ("campaign.edited", world.org, new_id, {"fields": ["goal", "title"]}),
        ("campaign.edited", world.org, new_id, {"fields": []}),
        ("campaign.image", world.org, new_id, None),
        ("campaign.status", world.org, new_id, {"status": "live", "from": "draft"}),
    ]
    assert_from_ip(rows, world)


def test_an_edit_that_is_refused_records_nothing(app, world):
    """The event is written with the change, so a change rolled back leaves none."""
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    refused = post(client, "/organiser/c/watch/edit", **campaign_form(slug="elsewhere", title="Taken"))
    assert refused.status_code == 422 and "already taken" in refused.get_data(as_text=True)
    assert events_after(app, mark) == []


def test_business_decisions_are_recorded(app, world):
    with app.app_context():
        watch = db.session.get(Campaign, world.watch)
        for name in ("Acme Ltd", "Bad Actor Inc"):
            businesses.join_as_business(watch, businesses.BusinessPledge(
                name, f"https://{name.split()[0].lower()}.example", "ads@example.com", "10-49"))
        for business in watch.businesses:
            businesses.confirm_pledge(business.id)
        ids = dict(db.session.execute(select(Business.organisation, Business.id)).all())
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    assert post(client, f"/organiser/c/watch/businesses/{ids['Acme Ltd']}", action="approved").status_code == 303
    assert post(client, f"/organiser/c/watch/businesses/{ids['Bad Actor Inc']}", action="rejected").status_code == 303
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("business.approved", world.org, world.watch, {"business": ids["Acme Ltd"]}),
        ("business.rejected", world.org, world.watch, {"business": ids["Bad Actor Inc"]}),
    ]
    assert "@" not in json.dumps([row.detail for row in rows])


def test_invalidating_and_undoing_are_recorded_without_personal_data(app, world):
    """The count, whether a reason was given and what was searched by; never
    the addresses, the domain or the reason itself."""
    with app.app_context():
        confirmed_signatures(db.session.get(Campaign, world.watch),
                             [("bot1@bots.example", "GB"), ("bot2@bots.example", "GB"), ("real@example.com", "FR")])
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    done = post(client, "/organiser/c/watch/signatures/invalidate", email_domain="bots.example", confirm="yes",
                reason="Two bots from one farm")
    assert done.status_code == 303
    with app.app_context():
        batch_id = db.session.execute(select(Invalidation.id)).scalar_one()
    assert post(client, f"/organiser/c/watch/invalidations/{batch_id}/undo").status_code == 303
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("signatures.invalidated", world.org, world.watch,
         {"invalidation": batch_id, "signatures": 2, "reason_given": True, "searched_by": ["email_domain"]}),
        ("signatures.restored", world.org, world.watch, {"invalidation": batch_id, "signatures": 2}),
    ]
    stored = json.dumps([row.detail for row in rows])
    assert "@" not in stored and "bots.example" not in stored and "farm" not in stored


def test_every_export_is_recorded_with_what_was_exported(app, world):
    with app.app_context():
        confirmed_signatures(db.session.get(Campaign, world.watch), [("fan@example.com", "GB")])
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    expected = []
    for by in ("day", "country", "total"):
        for fmt in ("csv", "json"):
            response = client.get(f"/organiser/c/watch/export/counts?by={by}&format={fmt}")
            assert response.status_code == 200
            expected.append(("export.counts", world.org, world.watch, {"by": by, "format": fmt}))
    signers = client.get("/organiser/c/watch/export/signers.csv")
    assert "fan@example.com" in signers.get_data(as_text=True)
    expected.append(("export.signers", world.org, world.watch, {"format": "csv"}))
    rows = events_after(app, mark)
    assert summary(rows) == expected
    assert_from_ip(rows, world)
    assert "@" not in json.dumps([row.detail for row in rows])


def write_update(client, action, **extra):
    return post(client, "/organiser/c/watch/updates/new", subject="News", body="Thank you.", action=action, **extra)


def test_updates_and_milestone_emails_are_recorded(app, world):
    """A test sent; an update written, then sent now; another written for
    later, scheduled, cancelled; milestone emails switched on and off."""
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    assert write_update(client, "test").status_code == 200
    now = write_update(client, "send")
    assert now.status_code == 303
    assert post(client, now.headers["Location"]).status_code == 303
    later_time = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    later = write_update(client, "send", send_at=later_time)
    assert post(client, later.headers["Location"]).status_code == 303
    with app.app_context():
        first, second = db.session.execute(select(CampaignUpdate.id).order_by(CampaignUpdate.id)).scalars()
    assert post(client, f"/organiser/c/watch/updates/{second}/cancel").status_code == 303
    assert post(client, "/organiser/c/watch/milestones", action="on").status_code == 303
    assert post(client, "/organiser/c/watch/milestones", action="off").status_code == 303
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("update.test_sent", world.org, world.watch, None),
        ("update.created", world.org, world.watch, {"update_id": first}),
        ("update.sent", world.org, world.watch, {"update_id": first}),
        ("update.created", world.org, world.watch, {"update_id": second}),
        ("update.scheduled", world.org, world.watch, {"update_id": second}),
        ("update.cancelled", world.org, world.watch, {"update_id": second, "stopped": 0}),
        ("milestones.on", world.org, world.watch, None),
        ("milestones.off", world.org, world.watch, None),
    ]
    assert_from_ip(rows, world)
    assert "org@example.com" not in json.dumps([row.detail for row in rows])


def test_question_changes_are_recorded(app, world):
    client = logged_in(app, "org@example.com")
    mark = last_id(app)
    questions_page = "/organiser/c/watch/questions"
    assert post(client, questions_page, label="Organisation", kind="text", in_export="y").status_code == 303
    assert post(client, questions_page, label="Are you a member?", kind="yesno").status_code == 303
    with app.app_context():
        first, second = db.session.execute(select(SignQuestion.id).order_by(SignQuestion.id)).scalars()
    assert post(client, f"/organiser/c/watch/questions/{first}/edit", label="Your organisation",
                kind="text").status_code == 303
    assert post(client, f"/organiser/c/watch/questions/{first}/visibility", action="hide").status_code == 303
    assert post(client, f"/organiser/c/watch/questions/{first}/visibility", action="show").status_code == 303
    assert post(client, f"/organiser/c/watch/questions/{second}/move", action="up").status_code == 303
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("question.added", world.org, world.watch, {"question": first}),
        ("question.added", world.org, world.watch, {"question": second}),
        ("question.edited", world.org, world.watch, {"question": first}),
        ("question.hidden", world.org, world.watch, {"question": first}),
        ("question.shown", world.org, world.watch, {"question": first}),
        ("question.moved", world.org, world.watch, {"question": second, "direction": "up"}),
    ]
    assert_from_ip(rows, world)


def test_the_command_line_records_its_changes_without_an_organiser(app, world, runner):
    mark = last_id(app)
    created = runner.invoke(args=["organiser", "create", "cli@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    exported = runner.invoke(args=["campaign", "export", "watch", "--by", "country"])
    assert exported.exit_code == 0, exported.output
    with app.app_context():
        new_id = db.session.execute(select(Organiser.id).where(Organiser.email == "cli@example.com")).scalar_one()
    rows = events_after(app, mark)
    assert summary(rows) == [
        ("organiser.created", None, None, {"organiser": new_id, "admin": False, "via": "command line"}),
        ("export.counts", None, world.watch, {"by": "country", "format": "csv", "via": "command line"}),
    ]
    assert all(row.ip_hash is None for row in rows)


def test_an_unknown_action_is_refused(app):
    with app.app_context(), pytest.raises(ValueError, match="unknown audit action"):
        audit.record("coffee.made")


# --- Who sees what on the Activity page ----------------------------------------------

def test_every_organiser_has_the_activity_page_in_the_menu(app, world):
    for email in ("org@example.com", "admin@example.com"):
        html = logged_in(app, email).get(ACTIVITY).get_data(as_text=True)
        assert f'<a href="{ACTIVITY}">Activity</a>' in html


def test_anonymous_visitors_are_sent_to_log_in(app, world):
    response = browser(app).get(ACTIVITY)
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]


def test_an_organiser_sees_only_their_own_events_whatever_they_ask_for(app, world):
    org = logged_in(app, "org@example.com")
    other = logged_in(app, "other@example.com", ip="198.51.100.4")
    assert other.get("/organiser/c/elsewhere/export/signers.csv").status_code == 200
    assert org.get("/organiser/c/watch/export/counts?by=day&format=json").status_code == 200
    for query in ("", f"?organiser={world.other}", f"?campaign={world.elsewhere}", "?action=export.signers"):
        response = org.get(ACTIVITY + query)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert ">Exported the counts by day (JSON)</td>" in html and ">Logged in</td>" in html
        assert "Exported the signer list" not in html and "other@example.com" not in html
        assert "Elsewhere" not in html
        assert "<select" not in html, "an organiser has no filters"
    with app.app_context():
        viewer = db.session.get(Organiser, world.org)
        page = audit.events(viewer, organiser_id=world.other)
        assert page.events and {event.organiser_id for event in page.events} == {world.org}


def test_the_page_names_each_action_and_links_campaigns_one_may_open(app, world):
    """Who, a label in words, the campaign (a link to its dashboard) and details."""
    org = logged_in(app, "org@example.com")
    assert org.get("/organiser/c/watch/export/signers.csv").status_code == 200
    assert post(org, "/organiser/c/watch/status", action="closed").status_code == 303
    html = org.get(ACTIVITY).get_data(as_text=True)
    assert "Exported the signer list (CSV)" in html
    assert "Changed a campaign&#39;s status" in html and "Now closed, was live" in html
    assert '<a href="/organiser/c/watch/">Watch the ads</a>' in html
    assert world.ip_hash[:12] in html and IP not in html
    with app.app_context():
        organisers.remove_member(db.session.get(Organiser, world.org), db.session.get(Campaign, world.watch))
    html = org.get(ACTIVITY).get_data(as_text=True)
    assert "Watch the ads" in html and '<a href="/organiser/c/watch/">' not in html


def test_a_failed_login_shows_no_one(app, world):
    log_in(browser(app), "nobody@example.net", PASSWORD)
    html = logged_in(app, "admin@example.com").get(ACTIVITY + "?action=login.failed").get_data(as_text=True)
    assert shown_rows(html) == 1 and "Failed login" in html and "nobody" not in html and "—" in html


def test_the_admin_filters_have_labels_and_work_without_javascript(app, world):
    html = logged_in(app, "admin@example.com").get(ACTIVITY).get_data(as_text=True)
    form = html.split('<form method="get"')[1].split("</form>")[0]
    for name, label in (("organiser", "Organiser"), ("campaign", "Campaign"), ("action", "Action"),
                        ("since", "From (UTC)"), ("until", "To (UTC), included")):
        assert f'<label for="{name}">{label}</label>' in form
        assert f'id="{name}"' in form and f'name="{name}"' in form
    assert form.count('type="date"') == 2 and form.count("<select") == 3
    assert '<option selected value="">Everyone</option>' in form and "org@example.com" in form
    assert "Watch the ads" in form and "Elsewhere" in form and ">Exported the signer list</option>" in form
    assert '<button type="submit" class="button">Show</button>' in form


def make_events(app, specs):
    """Events written directly: (action, organiser id, campaign id, when)."""
    with app.app_context():
        for action, organiser_id, campaign_id, when in specs:
            event = audit.record(action, db.session.get(Organiser, organiser_id) if organiser_id else None,
                                 None, {"update_id": 1}, ip=IP)
            event.campaign_id, event.created_at = campaign_id, when
        db.session.commit()


def test_an_admin_filters_by_organiser_campaign_action_and_days(app, world):
    day = dt.datetime(2024, 3, 2)
    make_events(app, [
        ("update.created", world.org, world.watch, day - dt.timedelta(hours=1)),   # 1 March, 23:00
        ("update.sent", world.org, world.watch, day),                              # 2 March, 00:00
        ("update.created", world.other, world.elsewhere, day + dt.timedelta(hours=23, minutes=59)),
        ("update.cancelled", world.other, world.elsewhere, day + dt.timedelta(days=1)),  # 3 March
    ])
    admin = logged_in(app, "admin@example.com")

    def rows(query):
        response = admin.get(ACTIVITY + query)
        assert response.status_code == 200
        return shown_rows(response.get_data(as_text=True))

    assert rows("") == 5  # and the admin's own login
    assert rows(f"?organiser={world.org}") == 2
    assert rows(f"?campaign={world.elsewhere}") == 2
    assert rows("?action=update.created") == 2
    assert rows(f"?action=update.created&organiser={world.other}") == 1
    assert rows("?since=2024-03-02&until=2024-03-02") == 2
    assert rows("?since=2024-03-03") == 2  # the 3 March event and the login today
    assert rows("?until=2024-03-01") == 1
    selected = admin.get(ACTIVITY + f"?organiser={world.org}").get_data(as_text=True)
    assert f'<option selected value="{world.org}">org@example.com</option>' in selected
    with app.app_context():
        viewer = db.session.get(Organiser, world.admin)
        page = audit.events(viewer, campaign_id=world.watch, since=dt.date(2024, 3, 2))
        assert [event.action for event in page.events] == ["update.sent"]


@pytest.mark.parametrize("query", ["?organiser=abc", "?campaign=999999", "?action=coffee.made", "?since=yesterday",
                                   "?since=2024-03-02&until=2024-03-01"])
def test_a_filter_that_makes_no_sense_is_an_error_on_the_page(app, world, query):
    response = logged_in(app, "admin@example.com").get(ACTIVITY + query)
    assert response.status_code == 422
    assert "There is a problem" in response.get_data(as_text=True)


def test_events_come_newest_first_a_hundred_at_a_time(app, world):
    with app.app_context():
        org = db.session.get(Organiser, world.org)
        for n in range(105):
            audit.record("update.created", org, None, {"update_id": n}, ip=IP)
        db.session.commit()
    client = logged_in(app, "org@example.com")  # the 106th event, the newest
    first = client.get(ACTIVITY).get_data(as_text=True)
    assert shown_rows(first) == 100
    assert first.index(">Logged in</td>") < first.index("update #104") < first.index("update #103")
    assert "update #6" in first and "update #5<" not in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert shown_rows(second) == 6 and "update #5<" in second and "update #0<" in second
    assert 'rel="next"' not in second and f'<a href="{ACTIVITY}">Newest</a>' in second
    for junk in ("?before=abc", "?before=-3", "?before=99999999999999999999"):
        assert shown_rows(client.get(ACTIVITY + junk).get_data(as_text=True)) == 100


def test_the_admin_s_filters_are_kept_when_paging(app, world):
    with app.app_context():
        org = db.session.get(Organiser, world.org)
        for n in range(101):
            audit.record("update.created", org, None, {"update_id": n}, ip=IP)
        db.session.commit()
    admin = logged_in(app, "admin@example.com")
    first = admin.get(ACTIVITY + "?action=update.created").get_data(as_text=True)
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', first).group(1).replace("&amp;", "&")
    assert "action=update.created" in older
    second = admin.get(older).get_data(as_text=True)
    assert shown_rows(second) == 1 and ">Logged in</td>" not in second
