"""The production setup on one machine: deploy/nginx/campaign.conf made
runnable by any user on free ports, in front of gunicorn instances started
with the repository's gunicorn.conf.py. Used by tests/test_multi_host.py and
bench/nginx.py.

Every wait is bounded, and ``stop`` always leaves nothing running."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .throwaway import wait_for_port

ROOT = Path(__file__).resolve().parent.parent
SITE_CONF = ROOT / "deploy" / "nginx" / "campaign.conf"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
FLASK = str(Path(sys.executable).with_name("flask"))
# Where the deploy file expects things on a server, and where they are here.
DEPLOYED_ROOT = "/srv/campaign"


def nginx_binary() -> str | None:
    """nginx, also where a user's PATH lacks /usr/sbin."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path.name}: nothing written)"
    return f"--- {path.name} (last {lines} lines) ---\n" + "\n".join(text.splitlines()[-lines:])


# --- nginx configuration -------------------------------------------------------

def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level block (``name args { ... }``) in
    ``text``, comments already removed."""
    spans, depth, start, statement_start = [], 0, 0, 0
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = statement_start
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
                statement_start = i + 1
        elif char == ";" and depth == 0:
            statement_start = i + 1
    assert depth == 0, "unbalanced braces in the nginx configuration"
    return spans


def site_config(*, upstreams: list[str], listen: str | None = None, prefix: Path, uploads: Path | None = None,
                certificate: tuple[Path, Path] | None = None, cache: bool = False,
                server_lines: tuple[str, ...] = ()) -> str:
    """deploy/nginx/campaign.conf as it runs here: the upstream's servers
    replaced by ``upstreams`` (host:port), paths moved under ``prefix``
    (logs, cache) and the repository (static files), the optional cache
    switched on with ``cache``.

    With ``listen`` (host:port): only the site's server, on plain HTTP
    there, plus ``server_lines``. Without: every server as written, the
    certificate paths replaced by ``certificate`` (for ``nginx -t``)."""
    text = SITE_CONF.read_text()
    if cache:
        text = re.sub(r"^(\s*)#cache ", r"\1", text, flags=re.MULTILINE)
    text = re.sub(r"#[^\n]*", "", text)  # the file has no "#" inside a value
    paths = {
        f"{DEPLOYED_ROOT}/instance/uploads": str(uploads or prefix / "uploads"),
        DEPLOYED_ROOT: str(ROOT),
        "/var/log/nginx": str(prefix / "logs"),
        "/var/cache/nginx": str(prefix / "cache"),
        "/var/www/letsencrypt": str(prefix / "acme"),
    }
    if certificate:
        paths["/etc/ssl/certs/ssl-cert-snakeoil.pem"] = str(certificate[0])
        paths["/etc/ssl/private/ssl-cert-snakeoil.key"] = str(certificate[1])
    for deployed, here in paths.items():
        text = text.replace(deployed, here)
    kept = []
    last = 0
    for start, end in _blocks(text):
        kept.append(text[last:start])
        block = text[start:end]
        if block.lstrip().startswith("upstream"):
            servers = "".join(f"\n    server {address} max_fails=1 fail_timeout=5s;" for address in upstreams)
            block = re.sub(r"\n\s*server\s[^;]*;", "", block)
            block = block.replace("{", "{" + servers, 1)
        elif listen is not None:
            if "proxy_pass" not in block:
                block = ""  # the catch-all and the redirect to HTTPS
            else:
                block = re.sub(r"\n\s*(listen|ssl_\w+)\s[^;]*;", "", block)
                extra = "".join(f"\n    {line}" for line in (f"listen {listen};", *server_lines))
                block = block.replace("{", "{" + extra, 1)
        kept.append(block)
        last = end
    kept.append(text[last:])
    return re.sub(r"\n\s*\n+", "\n", "".join(kept))


def main_config(site: str, prefix: Path, worker_processes: int | str = 1) -> str:
    """A whole nginx.conf around ``site``, as Debian's http block would
    hold it, with everything nginx writes under ``prefix``."""
    for folder in ("logs", "cache", "acme", "uploads", "temp"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    temp = prefix / "temp"
    mime = Path("/etc/nginx/mime.types")
    types = f"include {mime};" if mime.exists() else (
        "types { text/html html; text/css css; application/javascript js; image/png png; image/jpeg jpg; }")
    # As root (CI), nginx's workers would switch to "nobody", who cannot
    # enter pytest's private temporary folders.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
daemon off;
worker_processes {worker_processes};
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    {types}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    gzip on;
    access_log {prefix}/logs/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key (openssl), for ``nginx -t``."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=act.example.org", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def nginx_test(config: str, prefix: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` on a whole configuration."""
    path = prefix / "nginx-test.conf"
    path.write_text(config)
    return subprocess.run([nginx_binary(), "-t", "-p", str(prefix), "-e", str(prefix / "logs" / "error.log"),
                           "-c", str(path)], capture_output=True, text=True, timeout=30)


class Nginx:
    """nginx in the foreground with ``config``, on ``port``."""

    def __init__(self, config: str, prefix: Path, port: int):
        self.prefix, self.port = prefix, port
        self.url = f"http://127.0.0.1:{port}"
        path = prefix / "nginx.conf"
        path.write_text(config)
        self.log = prefix / "logs" / "nginx.out"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [nginx_binary(), "-p", str(prefix), "-e", str(prefix / "logs" / "error.log"), "-c", str(path)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for_port(port, 15, self.process):
            self.stop()
            raise RuntimeError(f"nginx did not start\n{self.logs()}")

    def logs(self) -> str:
        names = ("nginx.out", "error.log", "campaign.error.log", "campaign.access.log")
        return "\n".join(tail(self.prefix / "logs" / name) for name in names)

    def stop(self) -> None:
        stop_group(self.process, signal.SIGQUIT)


# --- processes of the site -------------------------------------------------------

def site_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without its FLASK_ and GUNICORN_ settings,
    plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "GUNICORN_"))}
    env["FLASK_APP"] = "app"
    env.update(settings)
    return env


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Ask ``process`` and its process group to stop, then kill them."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # workers the master left behind
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class SiteProcess:
    """A process of the site in a process group of its own (so that
    killing it takes its workers too), its output in ``log``."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a host that dies."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop_group(self.process, sig)

    def logs(self) -> str:
        return tail(self.log)


class Gunicorn(SiteProcess):
    """The site under gunicorn with gunicorn.conf.py, on ``port``."""

    def __init__(self, name: str, port: int, settings: dict[str, str], log_dir: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = site_env({"GUNICORN_BIND": f"127.0.0.1:{port}", **settings})
        super().__init__(name, [GUNICORN, "-c", "gunicorn.conf.py", "app:create_app()"], env, log_dir)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start\n{self.logs()}")


class OutboxWorker(SiteProcess):
    """`flask outbox work`; stopped as Ctrl-C would (SIGINT)."""

    def __init__(self, name: str, settings: dict[str, str], log_dir: Path):
        super().__init__(name, [FLASK, "outbox", "work"], site_env(settings), log_dir)

    def stop(self, sig: int = signal.SIGINT) -> None:
        super().stop(sig)
