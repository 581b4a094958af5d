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
