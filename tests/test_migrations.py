"""The migrations build exactly the schema the models describe, on every backend."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaign.extensions import db


def test_migrations_match_the_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(database_url, mail_server, tmp_path):
    from flask_migrate import downgrade, upgrade

    from .conftest import make_app
    app = make_app(database_url, mail_server, tmp_path)
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()


def test_stored_addresses_suppressions_and_counts_are_carried_into_the_mailbox_rules(
        database_url, mail_server, tmp_path):
    """Upgrading past 3b8e51c0a7d2 with data in place: +tags folded where no
    other signature of the campaign holds the folded address, suppressions
    folded, unconfirmed counts no longer split by consent, existing business
    pledges standing as confirmed."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from .conftest import _empty_tables, make_app
    app = make_app(database_url, mail_server, tmp_path)
    with app.app_context():
        _empty_tables()
        downgrade(revision="7efd0895c9c7")
        run = db.session.execute
        run(text("INSERT INTO campaign (id, slug, kind, status, title, summary, story, pledge_text, demands, goal, "
                 "goal_fixed, time_zone, postcode_required, share_text, next_action, milestone_emails, created_at, "
                 "edition) VALUES (1, 'c', 'boycott', 'live', 'C', '', '', '', '', 10, false, 'UTC', false, '', '', "
                 "false, '2026-01-01', 1)"))
        for n, (address, normalised) in enumerate([("Jo+news@example.org", "jo+news@example.org"),
                                                   ("jo@example.org", "jo@example.org"),
                                                   ("Al+x@example.org", "al+x@example.org")], 1):
            run(text("INSERT INTO signature (id, campaign_id, given_name, family_name, email, email_normalised, "
                     "email_domain, country, email_opt_in, show_name, status, created_at, emails_sent) VALUES "
                     "(:n, 1, 'A', 'B', :e, :m, 'example.org', 'GB', true, false, 'pending', '2026-01-01', 1)"),
                {"n": n, "e": address, "m": normalised})
        run(text("INSERT INTO suppression (email_normalised, created_at) VALUES ('al+x@example.org', '2026-01-01')"))
        run(text("INSERT INTO signature_tally (campaign_id, status, email_opt_in, shard, signatures) VALUES "
                 "(1, 'pending', true, 0, 3), (1, 'pending', false, 0, 1), (1, 'confirmed', true, 0, 5)"))
        run(text("INSERT INTO business (id, campaign_id, organisation, organisation_key, website, contact_email, "
                 "company_size, status, created_at) VALUES (1, 1, 'Acme', 'acme', 'https://acme.example', "
                 "'Ads@Acme.Example', '1-9', 'approved', '2026-01-02')"))
        db.session.commit()
        upgrade()
        addresses = dict(run(text("SELECT id, email_normalised FROM signature")).all())
        assert addresses == {1: "jo+news@example.org", 2: "jo@example.org", 3: "al@example.org"}
        assert run(text("SELECT email_normalised FROM suppression")).scalars().all() == ["al@example.org"]
        tallies = {(status, bool(opt_in)): n for status, opt_in, n in run(text(
            "SELECT status, email_opt_in, signatures FROM signature_tally")).all()}
        assert tallies == {("pending", False): 4, ("confirmed", True): 5}
        domain, confirmed = run(text("SELECT contact_domain, confirmed_at FROM business")).one()
        assert domain == "acme.example" and confirmed is not None
        db.session.commit()
        _empty_tables()
        db.engine.dispose()
