"""The development mail catcher: a real SMTP server whose mail is readable
at /dev/mail in debug mode, so a newcomer can click the confirmation link."""
import pytest

from campaign import outbox
from campaign.dev.mailcatcher import start_catcher

from .builders import make_campaign, sign
from .conftest import fresh_app
from .smtp import free_port


@pytest.fixture
def debug_app(database_url, mail_server, tmp_path):
    port = free_port()
    catcher = start_catcher(tmp_path / "dev-mail", port)
    with fresh_app(database_url, mail_server, tmp_path, DEBUG=True, MAIL_PORT=port) as app:
        app.debug = True
        yield app
        catcher.stop()


def test_a_newcomer_reads_the_confirmation_at_dev_mail(debug_app):
    client = debug_app.test_client()
    with debug_app.app_context():
        make_campaign(slug="dev", title="Dev campaign")
    sign(client, "dev", email="newcomer@example.com")
    with debug_app.app_context():
        assert outbox.drain().sent == 1
    listing = client.get("/dev/mail").get_data(as_text=True)
    assert "Confirm your signature: Dev campaign" in listing
    assert "newcomer@example.com" in listing
    link = listing.split('href="/dev/mail/')[1].split('"')[0]
    message = client.get(f"/dev/mail/{link}").get_data(as_text=True)
    assert '<a href="http://campaigns.test/confirm/' in message
    assert client.get("/dev/mail/not-a-message").status_code == 404
    assert client.get("/dev/mail/..%2f..%2fetc%2fpasswd").status_code == 404
