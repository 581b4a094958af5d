"""Races settle in the database: identical submissions leave one signature,
and many confirmations at once leave a stored count equal to the rows."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from campaign import counts, signing, tokens
from campaign.extensions import db
from campaign.models import DailyCountryCount, OutboxMessage, Signature, SignatureStatus

from .builders import confirm_signature, form_values, make_campaign, sign


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("a real race needs PostgreSQL (set TEST_DATABASE_URL)")


def run_together(n, work):
    """Start ``n`` calls of ``work(i)`` at the same moment; return their results."""
    barrier = threading.Barrier(n)

    def start(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(start, range(n)))


def pending_signatures(campaign, n: int, countries: list[str], opt_in: bool) -> list[int]:
    """``n`` signatures through the service, spread over ``countries``; their ids."""
    for i in range(n):
        signing.sign(campaign, signing.Pledge(
            f"P{i}", "Person", f"p{i}@example.com", countries[i % len(countries)], None, opt_in, False))
    return list(db.session.execute(select(Signature.id)).scalars())


def test_fifty_identical_submissions_at_once_leave_one_signature(app, postgres_only):
    with app.app_context():
        make_campaign(slug="race")
    clients = [app.test_client() for _ in range(50)]
    responses = run_together(50, lambda i: sign(clients[i], "race", email="racer@example.com"))
    assert {r.status_code for r in responses} == {200}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
        emails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert 1 <= emails <= app.config["SIGNATURE_EMAIL_CAP"]


def test_many_confirmations_at_once_keep_the_count_true(app, postgres_only):
    countries = ["GB", "FR", "DE", "US"]
    with app.app_context():
        campaign = make_campaign(slug="busy")
        ids = pending_signatures(campaign, 200, countries, opt_in=False)
        campaign_id = campaign.id

    def confirm(i):
        with app.app_context():
            signature = db.session.get(Signature, ids[i % len(ids)])
            confirm_signature(signature)  # every one twice: half are repeats
            db.session.remove()

    run_together(40, lambda i: [confirm(j) for j in range(i, 400, 40)])

    with app.app_context():
        assert counts.signature_count(campaign_id) == 200
        confirmed = db.session.scalar(select(func.count()).select_from(Signature)
                                      .where(Signature.status == SignatureStatus.CONFIRMED))
        assert confirmed == 200
        by_country = dict(db.session.execute(
            select(DailyCountryCount.country, func.sum(DailyCountryCount.signatures))
            .group_by(DailyCountryCount.country)).all())
        assert by_country == {c: 50 for c in countries}


def test_confirmation_clicks_at_once_count_each_signature_once(app, postgres_only):
    """Through the page, as people click: 100 signatures, each link pressed
    twice at the same moment by 20 visitors at a time; every page says
    confirmed, and the counts (total, by country) equal the rows."""
    countries = ["GB", "FR", "DE", "US"]
    with app.app_context():
        campaign = make_campaign(slug="clicks")
        paths = [f"/confirm/{tokens.token_for(tokens.CONFIRM, i)}"
                 for i in pending_signatures(campaign, 100, countries, opt_in=True)]
        campaign_id = campaign.id
    # Each page's form as its signer would send it back, unchanged.
    forms = {path: form_values(app.test_client().get(path).get_data(as_text=True)) for path in paths}
    clients = [app.test_client() for _ in range(20)]

    def click(i):
        # Visitors i and i + 10 press the same ten links in the same order.
        return [clients[i].post(paths[step * 10 + i % 10], data=forms[paths[step * 10 + i % 10]])
                for step in range(10)]

    pages = [page for batch in run_together(20, click) for page in batch]
    assert {page.status_code for page in pages} == {200}
    assert all("Your signature is confirmed" in page.get_data(as_text=True) for page in pages)
    with app.app_context():
        assert counts.signature_count(campaign_id) == 100
        assert counts.status_counts(campaign_id) == {("confirmed", True): 100, ("pending", False): 0}
        by_country = dict(db.session.execute(
            select(DailyCountryCount.country, func.sum(DailyCountryCount.signatures))
            .group_by(DailyCountryCount.country)).all())
        assert by_country == {c: 25 for c in countries}


def test_recount_repairs_drift(ctx):
    campaign = make_campaign()
    for i in range(3):
        signing.sign(campaign, signing.Pledge(f"R{i}", "R", f"r{i}@example.com", "GB", None, False, False))
    for signature in db.session.execute(select(Signature)).scalars().all():
        confirm_signature(signature)
    # Drift: a counter row edited by hand.
    db.session.execute(db.text("UPDATE signature_tally SET signatures = signatures + 7"))
    db.session.commit()
    assert counts.signature_count(campaign.id) > 3
    assert counts.recount(campaign)[1] == 3
    assert counts.signature_count(campaign.id) == 3


def test_recount_command(ctx, runner):
    campaign = make_campaign(slug="recount-me")
    result = runner.invoke(args=["campaign", "recount", "recount-me"])
    assert "recount-me: 0 -> 0" in result.output
    assert runner.invoke(args=["campaign", "recount", "nope"]).exit_code != 0
    assert campaign.id


def test_stored_counts_by_status_match_the_rows_through_every_change(ctx):
    """Sign, confirm, invalidate and undo: the stored tallies always equal a
    fresh count of the rows (what recount would rebuild)."""
    from campaign import moderation

    campaign = make_campaign()

    def rows_by_status():
        """Only confirmed signatures are counted by consent to updates."""
        found: dict = {}
        for status, opt_in, n in db.session.execute(
                select(Signature.status, Signature.email_opt_in, func.count())
                .where(Signature.campaign_id == campaign.id).group_by(Signature.status, Signature.email_opt_in)):
            key = (status, bool(opt_in) and status == SignatureStatus.CONFIRMED)
            found[key] = found.get(key, 0) + n
        return found

    def stored():
        return {k: v for k, v in counts.status_counts(campaign.id).items() if v}

    for i in range(6):
        signing.sign(campaign, signing.Pledge(f"T{i}", "T", f"t{i}@{'spam' if i < 3 else 'ok'}.example",
                                              "GB", None, i % 2 == 0, False))
    assert stored() == rows_by_status()
    for signature in db.session.execute(select(Signature).where(Signature.email_domain == "spam.example")).scalars():
        confirm_signature(signature)
    assert stored() == rows_by_status()
    batch = moderation.invalidate(campaign, moderation.Criteria(email_domain="spam.example"), None)
    assert batch.signatures == 3 and stored() == rows_by_status()
    assert counts.signature_count(campaign.id) == 0
    moderation.undo_invalidation(batch)
    assert stored() == rows_by_status()
    assert counts.signature_count(campaign.id) == 3
