"""The bare Flask app every load figure is compared with: same gunicorn
settings, no database, no templates. (The POSTs that write are also
compared with bench.hello_insert, which commits one row.)"""
from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello():
        return "hello"

    return app
