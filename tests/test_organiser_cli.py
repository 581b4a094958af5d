"""The organisers' command line: create accounts (password asked twice),
add organisers to campaigns, export counts to a file."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from campaign import organisers
from campaign.extensions import db
from campaign.models import ExportRecord, Organiser

from .builders import PASSWORD, confirmed_signatures, log_in, make_campaign, make_organiser


def create(runner, *args, password=PASSWORD, repeat=None):
    """Run `flask organiser create`, typing the password and its repeat."""
    repeat = password if repeat is None else repeat
    return runner.invoke(args=["organiser", "create", *args], input=f"{password}\n{repeat}\n")


def organiser_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(Organiser)).scalar_one()


# --- organiser create ----------------------------------------------------------------

def test_creating_an_organiser_asks_for_the_password_twice(ctx, runner):
    """The password is prompted for, then repeated; the account is created."""
    result = create(runner, "new@example.com")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Repeat the password" in result.output
    assert "Created organiser new@example.com." in result.output
    person = organisers.find_organiser("new@example.com")
    assert person is not None and not person.is_admin


def test_the_password_is_neither_shown_nor_stored(ctx, runner):
    """The typed password does not appear in the output, and only its argon2 hash is kept."""
    result = create(runner, "quiet@example.com")
    assert PASSWORD not in result.output
    stored = organisers.find_organiser("quiet@example.com").password_hash
    assert stored.startswith("$argon2") and PASSWORD not in stored


def test_the_new_organiser_can_log_in(ctx, runner, client):
    """The account created on the command line works on the login page."""
    create(runner, "Works@Example.com")
    assert log_in(client, "works@example.com").status_code == 303


def test_admin_makes_an_administrator(ctx, runner):
    """--admin creates an account that sees every campaign."""
    result = create(runner, "boss@example.com", "--admin")
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com." in result.output
    assert organisers.find_organiser("boss@example.com").is_admin


def test_the_address_is_stored_in_lower_case(ctx, runner):
    """Mixed case and spaces around the address are tidied."""
    create(runner, "  Mixed.Case@Example.COM ")
    assert db.session.execute(select(Organiser.email)).scalar_one() == "mixed.case@example.com"


@pytest.mark.parametrize("existing, again", [
    ("taken@example.com", "taken@example.com"),
    ("taken@example.com", "TAKEN@Example.com"),
], ids=["same", "different-case"])
def test_an_address_already_in_use_is_refused(ctx, runner, existing, again):
    """A second account with the same address: non-zero exit, a message, the first account unchanged."""
    make_organiser(existing)
    result = create(runner, again, password="another password entirely")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert organiser_count() == 1
    assert organisers.authenticate(existing, PASSWORD) is not None


@pytest.mark.parametrize("password", ["short", "x" * 11, ""], ids=["short", "eleven-characters", "empty"])
def test_a_short_password_is_refused(ctx, runner, password):
    """Under twelve characters: non-zero exit with the rule, and no account."""
    result = runner.invoke(args=["organiser", "create", "short@example.com"],
                           input=f"{password}\n{password}\n" if password else "\n\n\n")
    assert result.exit_code != 0
    if password:
        assert "The password must be at least 12 characters long." in result.output
    assert organiser_count() == 0


def test_passwords_that_do_not_match_are_not_accepted(ctx, runner):
    """Two different entries: asked again; giving up creates nothing."""
    result = create(runner, "typo@example.com", repeat="correct horse battery stapel")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert organiser_count() == 0


def test_a_mistyped_repeat_can_be_corrected(ctx, runner):
    """After a mismatch, the password is asked for again and the right pair is accepted."""
    result = runner.invoke(args=["organiser", "create", "retry@example.com"],
                           input=f"{PASSWORD}\nwrong repeat here\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert organisers.authenticate("retry@example.com", PASSWORD) is not None


# --- organiser add --------------------------------------------------------------------

def test_adding_an_organiser_to_a_campaign(ctx, runner, client):
    """`flask organiser add EMAIL SLUG` makes them a member: they see and open the campaign."""
    campaign = make_campaign(slug="team-up", title="Team up")
    make_organiser("helper@example.com")
    result = runner.invoke(args=["organiser", "add", "Helper@Example.com", "team-up"])
    assert result.exit_code == 0, result.output
    assert "helper@example.com is now a member of team-up." in result.output
    assert organisers.is_member(organisers.find_organiser("helper@example.com"), campaign)
    log_in(client, "helper@example.com")
    assert "Team up" in client.get("/organiser/").get_data(as_text=True)
    assert client.get("/organiser/c/team-up/").status_code == 200


def test_adding_a_member_twice_says_so(ctx, runner):
    """A second add changes nothing and says they were already a member."""
    campaign = make_campaign(slug="already")
    make_organiser("member@example.com", campaigns=[campaign])
    result = runner.invoke(args=["organiser", "add", "member@example.com", "already"])
    assert result.exit_code == 0
    assert "member@example.com was already a member of already." in result.output


@pytest.mark.parametrize("email, slug, message", [
    ("nobody@example.com", "real-campaign", "No organiser with the address nobody@example.com."),
    ("member@example.com", "no-such-campaign", "No campaign with slug 'no-such-campaign'."),
], ids=["unknown-email", "unknown-slug"])
def test_adding_refuses_unknown_organisers_and_campaigns(ctx, runner, email, slug, message):
    """An unknown address or campaign: non-zero exit, a message, no membership."""
    make_campaign(slug="real-campaign")
    make_organiser("member@example.com")
    result = runner.invoke(args=["organiser", "add", email, slug])
    assert result.exit_code != 0
    assert message in result.output
    assert organisers.campaigns_for(organisers.find_organiser("member@example.com")) == []


# --- campaign export --output -----------------------------------------------------------

def test_export_writes_the_counts_to_the_named_file_and_records_it(ctx, runner, tmp_path):
    """--output FILE receives the export; stdout stays empty; the export is logged as the command line's."""
    campaign = make_campaign(slug="to-file")
    confirmed_signatures(campaign, [("a@example.com", "GB"), ("b@example.com", "GB"), ("c@example.com", "FR")])
    target = tmp_path / "counts.csv"
    result = runner.invoke(args=["campaign", "export", "to-file", "--by", "country", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert target.read_text(encoding="utf-8") == (
        "country,country_name,signatures\nGB,United Kingdom,2\nFR,France,1\n")
    record = db.session.execute(select(ExportRecord)).scalar_one()
    assert (record.campaign_id, record.organiser_id, record.what) == (
        campaign.id, None, "counts by country (csv, command line)")


def test_export_as_json_to_a_file(ctx, runner, tmp_path):
    """--format json --output FILE writes a JSON list."""
    campaign = make_campaign(slug="json-file")
    confirmed_signatures(campaign, [("a@example.com", "DE")])
    target = tmp_path / "total.json"
    assert runner.invoke(args=["campaign", "export", "json-file", "--format", "json", "--output",
                               str(target)]).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8")) == [{"signatures": 1}]


def test_export_to_a_folder_that_does_not_exist_fails_cleanly(ctx, runner, tmp_path):
    """A bad --output path is an error with a message, not a traceback, and nothing is recorded."""
    make_campaign(slug="nowhere")
    result = runner.invoke(args=["campaign", "export", "nowhere", "--output", str(tmp_path / "no" / "such.csv")])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "Could not open file" in result.output
    assert db.session.execute(select(ExportRecord)).first() is None
