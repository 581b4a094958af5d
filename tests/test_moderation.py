"""Fraud and mistakes: organisers search a campaign's signatures, see the
busiest sources, invalidate a selection in two steps (preview, then confirm),
undo it, and withdraw one signature from the command line."""
from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, update

from campaign import moderation
from campaign.extensions import db
from campaign.models import Invalidation, Signature

from .builders import (
    confirm_signature,
    confirmed_signatures,
    csrf_token,
    log_in,
    make_campaign,
    make_organiser,
    valid_pledge,
)

BOT_IP = "203.0.113.9"
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def sign_from(client, slug, ip, **fields):
    """Sign through the public form from a given client address."""
    page = client.get(f"/c/{slug}")
    data = {**valid_pledge(**fields), "csrf_token": csrf_token(page.get_data(as_text=True))}
    response = client.post(f"/c/{slug}/sign", data=data, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 200
    return signature(fields["email"])


def signature(email) -> Signature:
    db.session.expire_all()
    return db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()


def statuses(campaign) -> dict[str, str]:
    db.session.expire_all()
    return dict(db.session.execute(
        select(Signature.email, Signature.status).where(Signature.campaign_id == campaign.id)).all())


def public_count(client, slug) -> int:
    return client.get(f"/c/{slug}/count.json").get_json()["signatures"]


def exported_total(client, slug) -> int:
    body = client.get(f"/organiser/c/{slug}/export/counts?by=total&format=json").get_data(as_text=True)
    return json.loads(body)[0]["signatures"]


@pytest.fixture
def watch(ctx, client):
    """A live campaign: three signatures from one address at bots.example.net (two
    confirmed), Ada from elsewhere, and two confirmed people who signed
    before; a member logged in."""
    campaign = make_campaign(slug="watch")
    for i in (1, 2, 3):
        sign_from(client, "watch", BOT_IP, email=f"bot{i}@bots.example.net", given_name=f"Bot{i}", family_name="Botson")
    for i in (1, 2):
        confirm_signature(signature(f"bot{i}@bots.example.net"))
    confirm_signature(sign_from(client, "watch", "198.51.100.1", email="ada@example.com",
                                        given_name="Ada", family_name="Lovelace"))
    confirmed_signatures(campaign, [("grace@example.org", "US"), ("alan@example.org", "GB")])
    make_organiser(campaigns=[campaign])
    log_in(client)
    return campaign


def search(client, **criteria):
    return client.get("/organiser/c/watch/signatures", query_string=criteria)


def found(response) -> set[str]:
    """The addresses in the results table."""
    html = response.get_data(as_text=True)
    if 'id="results-title"' not in html:
        return set()
    table = html.split('id="results-title"')[1].split("</table>")[0]
    return {email for email in ("bot1@bots.example.net", "bot2@bots.example.net", "bot3@bots.example.net", "ada@example.com",
                                "grace@example.org", "alan@example.org") if f'<td data-label="Email">{email}</td>' in table}


BOTS = {"bot1@bots.example.net", "bot2@bots.example.net", "bot3@bots.example.net"}


# --- Searching ------------------------------------------------------------------

@pytest.mark.parametrize("criteria, expected", [
    ({"email_domain": "bots.example.net"}, BOTS),
    ({"email_domain": "@BOTS.example.net"}, BOTS),
    ({"email_domain": "example.org"}, {"grace@example.org", "alan@example.org"}),
    ({"email_domain": "example.net"}, set()),
    ({"name": "lovelace"}, {"ada@example.com"}),
    ({"name": "BOT2"}, {"bot2@bots.example.net"}),
    ({"name": "bots"}, BOTS),
    ({"ip": BOT_IP}, BOTS),
    ({"ip": "198.51.100.1"}, {"ada@example.com"}),
    ({"ip": "192.0.2.1"}, set()),
    ({"email_domain": "bots.example.net", "name": "bot3"}, {"bot3@bots.example.net"}),
], ids=["domain", "domain-with-at-and-capitals", "other-domain", "partial-domain-is-not-a-match",
        "family-name", "given-name-any-case", "part-of-a-name", "ip", "other-ip", "unknown-ip", "domain-and-name"])
def test_an_organiser_searches_signatures(watch, client, criteria, expected):
    """Search by email domain, name or client address; criteria combine."""
    response = search(client, **criteria)
    assert response.status_code == 200
    assert found(response) == expected


def test_search_results_say_how_many_match_by_status(watch, client):
    """The results give confirmed, pending and invalidated counts."""
    html = search(client, email_domain="bots.example.net").get_data(as_text=True)
    assert "2 confirmed, 1 pending, 0 invalidated, 0 withdrawn by their signers match." in html


def test_search_by_ip_group_uses_the_hash_not_the_address(watch, client):
    """Signatures keep a keyed hash of the address; searching by that hash finds them."""
    stored = signature("bot1@bots.example.net").ip_hash
    assert stored and BOT_IP not in stored
    assert found(search(client, ip_hash=stored)) == BOTS


def test_search_by_time_window_uses_utc_and_excludes_the_end(watch, client):
    """since is inclusive, until exclusive, both in UTC."""
    times = {"bot1@bots.example.net": dt.datetime(2031, 6, 1, 9, 59), "bot2@bots.example.net": dt.datetime(2031, 6, 1, 10, 0),
             "bot3@bots.example.net": dt.datetime(2031, 6, 1, 10, 30), "ada@example.com": dt.datetime(2031, 6, 1, 11, 0)}
    for email, when in times.items():
        db.session.execute(update(Signature).where(Signature.email == email).values(created_at=when))
    db.session.commit()
    response = search(client, since="2031-06-01T10:00", until="2031-06-01T11:00")
    assert found(response) == {"bot2@bots.example.net", "bot3@bots.example.net"}
    assert found(search(client, since="2031-06-01T10:31")) == {"ada@example.com"}
    assert "grace@example.org" in found(search(client, until="2031-06-01T09:59"))


def test_a_time_window_that_ends_before_it_starts_is_refused(watch, client):
    """until at or before since: 422 with a message."""
    response = search(client, since="2031-06-01T10:00", until="2031-06-01T10:00")
    assert response.status_code == 422
    assert "The end of the time window must be after its start" in response.get_data(as_text=True)


@pytest.mark.parametrize("criteria", [
    {"email_domain": "bots\x00.example.net"}, {"name": "\x00"}, {"ip_hash": "\x00" * 8}, {"ip": "\x00"},
    {"since": "yesterday"}, {"until": "2031-13-40T99:99"}, {"name": "%"}, {"name": "_"}, {"email_domain": "x" * 300},
], ids=["nul-domain", "nul-name", "nul-ip-hash", "nul-ip", "word-date", "impossible-date", "percent",
        "underscore", "too-long-domain"])
def test_odd_search_input_is_never_a_server_error(watch, client, criteria):
    """Control characters, bad dates and wildcards: 200 or 422, never 500."""
    assert search(client, **criteria).status_code in (200, 422)


@pytest.mark.parametrize("name", ["%", "_", "%%", "B_t", "b%3", "\\", "   "])
def test_a_name_search_is_text_never_a_pattern(watch, client, name):
    """% and _ match only themselves: a search for "%" finds nobody (it
    matched every row); blank text filters nothing, so it lists them all."""
    everyone = BOTS | {"ada@example.com", "grace@example.org", "alan@example.org"}
    assert found(search(client, name=name)) == (everyone if not name.strip() else set())


@pytest.mark.parametrize("name", ["%", "_", "   "])
def test_a_wildcard_or_blank_name_cannot_invalidate_a_whole_campaign(watch, client, name):
    """Invalidating needs a real criterion: "%" once passed the guard and
    matched every signature."""
    before = statuses(watch)
    response = invalidate(client, name=name, confirm="yes")
    if name.strip():
        assert response.status_code == 303
        assert "0 signatures invalidated." in client.get("/organiser/c/watch/").get_data(as_text=True)
    else:
        assert response.status_code == 422
    assert statuses(watch) == before


def test_a_name_with_a_wildcard_character_is_found_as_written(watch, client):
    confirmed_signatures(watch, [("under@example.org", "GB")])
    db.session.execute(update(Signature).where(Signature.email == "under@example.org")
                       .values(family_name="Snake_case 100%"))
    db.session.commit()
    html = search(client, name="e_c").get_data(as_text=True)
    cell = '<td data-label="Email">under@example.org</td>'
    assert cell in html
    assert cell in search(client, name="100%").get_data(as_text=True)
    assert cell not in search(client, name="e%c").get_data(as_text=True)


@pytest.mark.parametrize("criteria", [{"name": "\x00"}, {"email_domain": "a\x00b"}, {"since": "soon"}],
                         ids=["nul-name", "nul-domain", "word-date"])
def test_odd_invalidation_criteria_are_never_a_server_error(watch, client, criteria):
    """The invalidation preview with odd criteria is a 200 or 422, and changes nothing."""
    before = statuses(watch)
    assert invalidate(client, **criteria).status_code in (200, 422)
    assert statuses(watch) == before


def test_the_busiest_sources_of_the_last_hour_are_shown(watch, client):
    """The signatures page lists the address group and domain that signed most in the last hour."""
    ip_hash = signature("bot1@bots.example.net").ip_hash
    html = client.get("/organiser/c/watch/signatures").get_data(as_text=True)
    sources = html.split('id="sources-title"')[1].split("</section>")[0]
    by_ip = sources.split("By IP group")[1].split("</table>")[0]
    assert f"ip_hash={ip_hash}" in by_ip and f"<code>{ip_hash[:12]}…</code>" in by_ip
    assert '<td class="num">3</td>' in by_ip
    by_domain = sources.split("By email domain")[1].split("</table>")[0]
    assert ">bots.example.net</a></td><td class=\"num\">3</td>" in by_domain
    # A single signature from an address is not a "source".
    assert signature("ada@example.com").ip_hash not in by_ip


def test_sources_older_than_an_hour_are_not_among_the_busiest(watch, client):
    """Signatures from two hours ago do not count toward the last hour."""
    db.session.execute(update(Signature).where(Signature.email_domain == "bots.example.net")
                       .values(created_at=NOW - dt.timedelta(hours=2)))
    db.session.commit()
    html = client.get("/organiser/c/watch/signatures").get_data(as_text=True)
    assert "bots.example.net" not in html.split('id="sources-title"')[1].split("</section>")[0]


# --- Invalidating in two steps -------------------------------------------------------

class _Inputs(HTMLParser):
    """The name/value pairs of a page's form inputs, as a browser would send them."""

    def __init__(self, action_contains):
        super().__init__()
        self.action_contains, self.inside, self.values = action_contains, False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("method") == "post" and self.action_contains in (attrs.get("action") or "")
        elif tag == "input" and self.inside and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_values(html, action_contains="") -> dict:
    parser = _Inputs(action_contains)
    parser.feed(html)
    return parser.values


def invalidate(client, **fields):
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    return client.post("/organiser/c/watch/signatures/invalidate", data={"csrf_token": token, **fields})


def test_invalidating_first_shows_how_many_will_change_and_changes_nothing(watch, client):
    """The first POST is a preview: the number that will change, nothing changed yet."""
    before = statuses(watch)
    response = invalidate(client, email_domain="bots.example.net")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "3 signatures will be invalidated" in html and "(2 confirmed, 1 pending)" in html
    assert "The public count drops by 2." in html
    assert ">Invalidate 3 signatures</button>" in html
    assert statuses(watch) == before
    assert public_count(client, "watch") == 5
    assert db.session.execute(select(Invalidation)).first() is None


def test_an_organiser_searches_previews_and_confirms_an_invalidation(watch, client):
    """Search, press Invalidate, confirm: the signatures are withdrawn and the counts drop."""
    assert public_count(client, "watch") == exported_total(client, "watch") == 5
    results = search(client, email_domain="bots.example.net").get_data(as_text=True)
    preview = client.post("/organiser/c/watch/signatures/invalidate", data=form_values(results, "/invalidate"))
    assert preview.status_code == 200
    confirm = form_values(preview.get_data(as_text=True))
    assert confirm["confirm"] == "yes" and confirm["email_domain"] == "bots.example.net"
    response = client.post("/organiser/c/watch/signatures/invalidate", data={**confirm, "reason": "one bot"})
    assert response.status_code == 303 and response.headers["Location"] == "/organiser/c/watch/"
    assert statuses(watch) == {**{b: "invalidated" for b in BOTS}, "ada@example.com": "confirmed",
                               "grace@example.org": "confirmed", "alan@example.org": "confirmed"}
    assert public_count(client, "watch") == exported_total(client, "watch") == 3
    dashboard = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 signatures invalidated." in dashboard
    listed = dashboard.split('id="invalidations-title"')[1].split("</table>")[0]
    assert '<td>org@example.com</td>\n      <td class="num">3</td><td dir="auto">one bot</td>' in listed
    assert ">Undo</button>" in listed


def test_invalidated_signatures_leave_the_exports_by_day_and_country(watch, client):
    """After an invalidation the breakdowns equal the confirmed rows that remain."""
    invalidate(client, name="lovelace", confirm="yes")
    by_country = json.loads(client.get("/organiser/c/watch/export/counts?by=country&format=json").get_data())
    assert {r["country"]: r["signatures"] for r in by_country} == {"GB": 3, "US": 1}
    by_day = json.loads(client.get("/organiser/c/watch/export/counts?by=day&format=json").get_data())
    assert sum(r["signatures"] for r in by_day) == 4


def test_undoing_an_invalidation_restores_the_signatures_and_the_count(watch, client):
    """Undo puts each signature back as it was (confirmed or pending) and the count back up."""
    before, by_day = statuses(watch), client.get("/organiser/c/watch/export/counts?by=day").get_data()
    invalidate(client, ip=BOT_IP, confirm="yes")
    assert public_count(client, "watch") == 3
    batch = db.session.execute(select(Invalidation)).scalar_one()
    assert batch.signatures == 3
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    response = client.post(f"/organiser/c/watch/invalidations/{batch.id}/undo", data={"csrf_token": token})
    assert response.status_code == 303
    assert statuses(watch) == before
    assert public_count(client, "watch") == exported_total(client, "watch") == 5
    assert client.get("/organiser/c/watch/export/counts?by=day").get_data() == by_day
    dashboard = client.get("/organiser/c/watch/").get_data(as_text=True)
    assert "3 signatures restored." in dashboard and ">undone<" in dashboard


def test_undoing_twice_changes_nothing_more(watch, client):
    """A second undo restores nothing and the count stays right."""
    invalidate(client, email_domain="bots.example.net", confirm="yes")
    batch = db.session.execute(select(Invalidation)).scalar_one()
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    client.post(f"/organiser/c/watch/invalidations/{batch.id}/undo", data={"csrf_token": token})
    again = client.post(f"/organiser/c/watch/invalidations/{batch.id}/undo", data={"csrf_token": token})
    assert again.status_code == 303
    assert "0 signatures restored." in client.get("/organiser/c/watch/").get_data(as_text=True)
    assert public_count(client, "watch") == 5


def test_an_undo_does_not_touch_signatures_invalidated_by_another_batch(watch, client):
    """Two batches: undoing the first leaves the second's signatures withdrawn."""
    invalidate(client, name="bot1", confirm="yes")
    invalidate(client, name="lovelace", confirm="yes")
    first = db.session.execute(select(Invalidation).order_by(Invalidation.id)).scalars().first()
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    client.post(f"/organiser/c/watch/invalidations/{first.id}/undo", data={"csrf_token": token})
    assert statuses(watch)["bot1@bots.example.net"] == "confirmed"
    assert statuses(watch)["ada@example.com"] == "invalidated"
    assert public_count(client, "watch") == 4


@pytest.mark.parametrize("fields", [{}, {"confirm": "yes"}, {"reason": "everything", "confirm": "yes"},
                                    {"email_domain": "   ", "confirm": "yes"}],
                         ids=["nothing", "confirmed-without-criteria", "only-a-reason", "blank-criteria"])
def test_invalidating_without_criteria_is_refused(watch, client, fields):
    """No criterion, no invalidation: 422 with a message and nothing changed."""
    before = statuses(watch)
    response = invalidate(client, **fields)
    assert response.status_code == 422
    assert "Search for something first: invalidating needs at least one criterion" in response.get_data(as_text=True)
    assert statuses(watch) == before and public_count(client, "watch") == 5


def test_invalidating_needs_the_csrf_token(watch, client):
    """A forged form cannot withdraw signatures."""
    response = client.post("/organiser/c/watch/signatures/invalidate",
                           data={"email_domain": "bots.example.net", "confirm": "yes"})
    assert response.status_code == 400
    assert public_count(client, "watch") == 5


def test_an_invalidation_of_another_campaign_cannot_be_undone_here(watch, client):
    """The undo URL only works for the campaign's own batches."""
    other = make_campaign(slug="other-watch")
    confirmed_signatures(other, [("x@example.net", "GB")])
    batch = moderation.invalidate(other, moderation.Criteria(email="x@example.net"), None)
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    assert client.post(f"/organiser/c/watch/invalidations/{batch.id}/undo",
                       data={"csrf_token": token}).status_code == 404
    assert public_count(client, "other-watch") == 0


def test_other_campaigns_are_untouched_by_an_invalidation(watch, client):
    """Criteria only ever select this campaign's signatures."""
    other = make_campaign(slug="neighbour")
    confirmed_signatures(other, [("bot9@bots.example.net", "GB")])
    invalidate(client, email_domain="bots.example.net", confirm="yes")
    assert statuses(other) == {"bot9@bots.example.net": "confirmed"}
    assert public_count(client, "neighbour") == 1


# --- One signature from the command line ----------------------------------------------

def test_the_command_line_withdraws_one_signature(watch, client, runner):
    """`flask campaign invalidate SLUG --email` withdraws that signature; the count drops."""
    result = runner.invoke(args=["campaign", "invalidate", "watch", "--email", "Grace@Example.org",
                                 "--reason", "asked to be removed"])
    assert result.exit_code == 0, result.output
    assert "Invalidated 1 signature(s) on watch" in result.output
    assert statuses(watch)["grace@example.org"] == "invalidated"
    assert public_count(client, "watch") == 4
    listed = client.get("/organiser/c/watch/").get_data(as_text=True).split('id="invalidations-title"')[1]
    assert "<td>command line</td>" in listed and "asked to be removed" in listed


def test_the_command_line_matches_gmail_addresses_as_signing_does(ctx, runner):
    """A.Da+news@googlemail.com names the signature of ada@gmail.com."""
    campaign = make_campaign(slug="gmail")
    confirmed_signatures(campaign, [("ada@gmail.com", "GB")])
    result = runner.invoke(args=["campaign", "invalidate", "gmail", "--email", "A.Da+news@googlemail.com"])
    assert result.exit_code == 0, result.output
    assert statuses(campaign)["ada@gmail.com"] == "invalidated"


@pytest.mark.parametrize("args, message", [
    (["campaign", "invalidate", "watch", "--email", "nobody@example.com"], "No valid signature by nobody@example.com"),
    (["campaign", "invalidate", "no-such-campaign", "--email", "ada@example.com"], "No campaign with slug"),
    (["campaign", "invalidate", "watch"], "Missing option '--email'"),
], ids=["unknown-address", "unknown-campaign", "no-address"])
def test_the_command_line_refuses_what_it_cannot_withdraw(watch, client, runner, args, message):
    """Unknown address or campaign: a non-zero exit, a message, and the count unchanged."""
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert public_count(client, "watch") == 5


def test_withdrawing_the_same_signature_twice_fails_the_second_time(watch, runner):
    """An already withdrawn signature cannot be withdrawn again."""
    args = ["campaign", "invalidate", "watch", "--email", "alan@example.org"]
    assert runner.invoke(args=args).exit_code == 0
    second = runner.invoke(args=args)
    assert second.exit_code != 0 and "No valid signature by alan@example.org" in second.output
