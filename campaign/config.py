"""Default settings. Every key can be overridden by an environment variable
of the same name prefixed ``FLASK_`` (``FLASK_SITE_URL=https://...``)."""
from pathlib import Path


class Defaults:
    # No usable default: the factory refuses to start outside debug/testing
    # without a real key (see ``campaign.check_secret_key``).
    SECRET_KEY = None

    # None means "SQLite in the instance folder", filled in by the factory.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # A pooled connection idle this long is checked before use (see
    # extensions.ping_after_idle); 0 checks every time.
    DATABASE_PING_AFTER_IDLE_SECONDS = 1.0

    # Absolute base for links in emails.
    SITE_URL = "http://127.0.0.1:5000"
    # The site's name until an admin sets one on the Site settings page.
    SITE_NAME = "Campaign site"
    # Site settings (name, footer, ...) are read at most this often per process.
    SITE_SETTINGS_SECONDS = 5

    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 1025
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    # Flask-Mail would silently drop mail under TESTING; the tests use a real
    # SMTP server instead.
    MAIL_SUPPRESS_SEND = False
    MAIL_DEFAULT_SENDER = "Campaign site <noreply@localhost>"
    # Seconds before a silent SMTP server counts as a temporary failure.
    MAIL_TIMEOUT = 10

    # Outbox worker.
    OUTBOX_BATCH_SIZE = 50
    OUTBOX_LEASE_SECONDS = 120
    OUTBOX_POLL_SECONDS = 1.0
    OUTBOX_MAX_ATTEMPTS = 12
    OUTBOX_BACKOFF_BASE_SECONDS = 30
    OUTBOX_BACKOFF_MAX_SECONDS = 6 * 3600
    # Messages per second per worker; 0 sends as fast as the server takes them.
    OUTBOX_RATE_PER_SECOND = 0
    # Deliveries created per transaction when an update fans out.
    BROADCAST_BATCH_SIZE = 2000

    # Webhooks (see campaign/webhooks.py, campaign/webhook_http.py): seconds
    # to connect and for each read of an endpoint's answer, and how much of
    # the answer the delivery log keeps. A delivery is retried (with the
    # outbox's backoff) for 24 hours (webhooks.WEBHOOK_RETRY_HOURS), then
    # kept as a dead letter. WEBHOOK_ALLOW_PRIVATE_ADDRESSES lets deliveries
    # reach loopback and private addresses over plain http: for the tests'
    # own receiver only; the app refuses to start with it unless testing.
    WEBHOOK_TIMEOUT_SECONDS = 5
    WEBHOOK_RESPONSE_BYTES = 1024
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    # email-validator's DNS check: off by default; when on, it waits at most
    # EMAIL_DNS_TIMEOUT seconds so a slow resolver cannot stall signing.
    EMAIL_CHECK_DELIVERABILITY = False
    EMAIL_DNS_TIMEOUT = 3

    # No signature ever triggers more than this many emails, and a repeat
    # signing inside the quiet period (a double click) sends nothing more.
    SIGNATURE_EMAIL_CAP = 5
    SIGNATURE_RESEND_QUIET_SECONDS = 10
    # The thank-you page's "send the email again" button: it works for this
    # long after signing, and only once the last email is this old.
    SIGNATURE_RESEND_FORM_HOURS = 24
    SIGNATURE_RESEND_AFTER_SECONDS = 60
    # Emails a mailbox did not yet ask for (confirmation links, "already
    # signed" notes), across all campaigns and address variants; past the
    # cap the signing still succeeds but nothing is sent until the window
    # frees. Rules of the email system: RATELIMIT_ENABLED does not switch them off.
    # A confirmation link (a signature's, a business pledge's) expires this
    # many days after the latest email that carried it.
    CONFIRM_LINK_DAYS = 30
    # A signature still pending this many hours after signing (and after the
    # latest email with its link) is sent one reminder with the link, if the
    # worker gets to it within as many hours again; 0 sends none.
    CONFIRM_REMINDER_HOURS = 24
    # The "extend our pause" link in a business pledge's confirmation email
    # works this long after the email: long enough for a pause of months
    # to be extended near its end, not for ever (see business_pauses).
    BUSINESS_EXTEND_LINK_DAYS = 180
    MAILBOX_UNCONFIRMED_PER_HOUR = 3
    MAILBOX_UNCONFIRMED_PER_DAY = 10

    # Retention (see campaign/retention.py). A closed campaign's signatures
    # are anonymised this many days after it closed (each campaign may set
    # its own period); a signature still pending this many days after the
    # latest email with its link is deleted; a finished outbox message
    # (sent, skipped or a dead letter) keeps its address, subject and body
    # this many days after it was last due. The sweep works in batches of
    # RETENTION_BATCH_SIZE rows per transaction, and each outbox worker
    # process runs it every RETENTION_SWEEP_MINUTES (0: only `flask privacy
    # sweep` does), for at most RETENTION_WORKER_SECONDS a turn (it carries
    # on at the next turn).
    RETENTION_DAYS_AFTER_CLOSE = 180
    RETENTION_PENDING_DAYS = 30
    RETENTION_OUTBOX_DAYS = 30
    RETENTION_BATCH_SIZE = 5000
    RETENTION_SWEEP_MINUTES = 10
    RETENTION_WORKER_SECONDS = 10

    # "Manage my data" (see campaign/my_data.py): the emailed link opens a
    # mailbox's data for PRIVACY_LINK_HOURS (the sweep forgets it after);
    # a mailbox is sent at most one link per PRIVACY_LINK_MINUTES, whoever
    # asks, besides its allowance of emails it did not ask for.
    PRIVACY_LINK_HOURS = 24
    PRIVACY_LINK_MINUTES = 10

    # Number of counter rows per campaign that confirmations spread over, so
    # that they do not all queue on one row lock.
    COUNTER_SHARDS = 16

    RATELIMIT_ENABLED = True
    # How many processes serve requests (set by gunicorn.conf.py): with more
    # than one, limits kept in memory would multiply, so outside debug the
    # app refuses to start unless RATELIMIT_STORAGE_URI is shared (Redis) or
    # the limits are off.
    WEB_WORKERS = 1
    RATELIMIT_STORAGE_URI = "memory://"
    # If the shared store (Redis) is down, each process limits on its own in
    # memory rather than refusing or failing requests: signing goes on.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_KEY_PREFIX = "campaign"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SIGN = "10 per minute;60 per hour"
    # One client address across all campaigns (signing and business pledges).
    RATELIMIT_SIGN_ANY_CAMPAIGN = "20 per minute;120 per hour"
    RATELIMIT_CONFIRM = "30 per minute"
    RATELIMIT_BUSINESS = "5 per minute;20 per hour"
    RATELIMIT_UNSUBSCRIBE = "30 per minute"
    # "Send the email again" presses from one client address, across all campaigns.
    RATELIMIT_RESEND = "3 per 10 minutes;10 per day"
    # "Manage my data": asking for a link, per client address (the mailbox
    # has its own limits: see PRIVACY_LINK_MINUTES).
    RATELIMIT_MY_DATA = "5 per minute;20 per hour"
    # The API (see campaign/api): requests per API key, across all its
    # endpoints; and reads without a key (a campaign's public summary, the
    # docs), per client address.
    RATELIMIT_API = "600 per minute"
    RATELIMIT_API_PUBLIC = "60 per minute"
    # Items per page of the API's lists when a client asks none, and at most.
    API_PER_PAGE = 25
    API_MAX_PER_PAGE = 100

    WTF_CSRF_TIME_LIMIT = None  # tied to the session, not a clock
    # How long shared caches (a CDN) may keep a campaign page and count.json,
    # and serve it stale while fetching a fresh one; browsers always revalidate.
    PUBLIC_MICROCACHE_SECONDS = 1
    # How long a process reuses what it read of a public campaign for its
    # pages and count.json (its count, status and recent signers): one read
    # per campaign per process per second, however many visitors.
    PUBLIC_LIVE_SECONDS = 1
    PUBLIC_CACHE_SECONDS = 2
    PUBLIC_STALE_SECONDS = 2

    # How many proxies in front of the app may set X-Forwarded-For; 0 ignores it.
    TRUSTED_PROXIES = 0
    REQUEST_LOG_LEVEL = "INFO"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    BABEL_DEFAULT_LOCALE = "en"
    # The compiled catalogs, translations/<language>/LC_MESSAGES/messages.mo
    # beside the package (Flask-Babel would look inside it); `make run` and
    # `make test` compile them. A string missing from one is shown in English.
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent.parent / "translations")
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # The development mail catcher (`flask dev serve`) and /dev/mail.
    DEV_MAIL_CATCHER_PORT = 1025
    DEV_MAIL_FOLDER = None  # default: <instance>/mail

    # Request bodies: small everywhere, larger only where an image is uploaded.
    MAX_CONTENT_LENGTH = 1024 * 1024
    UPLOAD_MAX_CONTENT_LENGTH = 3 * 1024 * 1024
    IMAGE_MAX_BYTES = 2 * 1024 * 1024
    IMAGE_MAX_PIXELS_SIDE = 4000  # widest or tallest image taken, read from its header before any pixel is decoded

    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    # Per account *and* client address: someone else's guesses never count against you.
    RATELIMIT_LOGIN_ACCOUNT = "5 per minute;20 per hour"
    # After this many failed logins to one address, an attempt from a browser
    # that has not logged in to it before waits 1 s, then 2, 4, ... up to the
    # maximum; a browser that has (a signed device cookie) is never delayed.
    LOGIN_FAILURES_BEFORE_DELAY = 5
    LOGIN_DELAY_MAX_SECONDS = 600
    LOGIN_DEVICE_DAYS = 365
    # A password reset link works once, for this long; an invitation link, once, for this many days.
    PASSWORD_RESET_MINUTES = 60
    INVITATION_DAYS = 7
    # With two-factor on, the code must follow the password within this many
    # minutes, and this many wrong codes send the organiser back to the password.
    TWO_FACTOR_LOGIN_MINUTES = 5
    TWO_FACTOR_LOGIN_TRIES = 5
    # Organiser sessions end after this long without a request, and this long after login.
    ORGANISER_IDLE_MINUTES = 120
    ORGANISER_SESSION_HOURS = 12
