"""Entry point for `flask` and gunicorn (`gunicorn 'app:create_app()'`)."""
from campaign import create_app

__all__ = ["create_app"]
