"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'app:create_app()'`."""
import gc
import multiprocessing
import os

# Behind nginx (deploy/nginx/campaign.conf), never facing clients: nginx
# reads slow clients' headers and bodies before a thread is spent on them.
# Another host's nginx reaches this one on a private address
# (GUNICORN_BIND=10.0.0.11:8000, firewalled to the proxies only), the local
# one may use a socket (GUNICORN_BIND=unix:/run/campaign/gunicorn.sock).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Whose X-Forwarded-Proto gunicorn believes for the request's scheme. The app
# is the one place that reads forwarding headers (FLASK_TRUSTED_PROXIES, with
# werkzeug's ProxyFix: the client address for rate limits, the scheme and the
# host), so by default gunicorn believes no one: not even 127.0.0.1, its own
# default. Only X-Forwarded-Proto counts, the one header nginx always
# overwrites; its default list would also take X-Forwarded-Ssl and
# X-Forwarded-Protocol, which nginx passes on from the client. gunicorn
# believes a unix socket's peer whatever this says: only nginx can reach the
# socket, and it sets the same value ProxyFix reads.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
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
# The app refuses to start with rate limits kept in each worker's memory
# when there is more than one worker (the limits would multiply): it reads
# the worker count from here.
os.environ["FLASK_WEB_WORKERS"] = str(workers)
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
