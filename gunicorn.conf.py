"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'app:create_app()'`."""
import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two workers per core plus one, each with 4 threads (gunicorn's gthread
# worker): keep-alive connections are kept without tying up a thread, and a
# request waiting on the database does not hold up the next one. The work is
# mostly Python, so more threads would only queue for the cores and the
# interpreter lock; more workers than cores keep a burst of keep-alive
# connections (from a proxy) from all landing on one worker and one core.
# Each thread may hold one database connection. With a database further away
# than this machine's, more threads may pay (GUNICORN_THREADS). The figures
# behind these choices: docs/BENCHMARKS.md.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A request taking longer than this is stuck (the database has its own, shorter timeouts).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so slow leaks cannot grow without bound;
# rarely, because a recycled worker starts cold in the middle of a spike.
max_requests = 500000
max_requests_jitter = 50000
# One line per request with its duration and request id. No client address
# and no path: paths can hold confirmation tokens. The app's own request log
# (logger "campaign.request") has the path, with tokens replaced by the route.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
access_log_format = '"%(m)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
preload_app = True


def when_ready(server):
    # Everything loaded so far (the app, SQLAlchemy's mappers, templates)
    # lives for the whole process: keep it out of the garbage collector's
    # full passes, which otherwise pause a worker for tens of milliseconds
    # now and then. Workers are forked after this, so they share it too.
    gc.freeze()
