"""Serving the teaching page: ``solara run`` offline, the addresses to open, a QR code.

:func:`serve` is what ``scamsim app`` runs. It starts ``solara run`` on the page
file (:mod:`sim.app.views`) in a child process (through :func:`run_solara`,
without websocket compression) with no telemetry and no version check
(everything the page needs is served locally, so it works without an internet
connection), waits until it answers and prints the address. With
``--host 0.0.0.0`` it also prints the machine's LAN addresses, which students
open on their own devices, and a QR code of the first one when the optional
``qrcode`` package is installed.

This module imports neither Solara nor matplotlib: the command line stays fast.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().with_name("views.py")
# No usage telemetry; matplotlib without a display; warm the map caches at start-up.
# (The version check against the package index is switched off on the command line.)
OFFLINE_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "MPLBACKEND": "Agg",
               "SCAMSIM_APP_WARM": "1"}
# Solara warns on every page load that plain-http cookies fall back to samesite=lax;
# that is expected for a local server and only clutters the terminal.
QUIET_WARNINGS = "ignore:Cookies with samesite=none require https:UserWarning"
ALL_INTERFACES = ("0.0.0.0", "", "::")


def _solara_command() -> list[str]:
    """``solara run`` through :func:`run_solara` (no websocket compression)."""
    return [sys.executable, "-c",
            "import sys; from sim.app.server import run_solara; run_solara(sys.argv[1:])"]


def no_deflate_config() -> type:
    """``uvicorn.Config`` with ``ws_per_message_deflate`` off unless asked for."""
    import uvicorn

    base = uvicorn.Config

    class Config(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("ws_per_message_deflate", False)
            super().__init__(*args, **kwargs)

    Config.__name__ = Config.__qualname__ = base.__name__
    return Config


def run_solara(argv: list[str]) -> None:
    """Solara's command line (``run PAGE --port …``) without websocket compression.

    Uvicorn compresses every websocket message (permessage-deflate) unless told
    not to, and ``solara run`` cannot tell it. The page's messages are mostly the
    map and plot PNGs, already deflated: compressing them again saves nothing and
    costs the server about 20 ms a frame, in the event loop that every tab's
    messages go through. So uvicorn's ``Config`` gets that default switched off
    before Solara's command line builds it; the rest is ``solara run`` as it is.
    """
    import uvicorn

    uvicorn.Config = no_deflate_config()
    from solara.__main__ import main

    sys.argv = ["solara", *argv]
    main()  # exits itself


def offline_env() -> dict[str, str]:
    """Environment of the server: no telemetry, no version check, assets served locally."""
    env = {**os.environ, **OFFLINE_ENV}
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS"), QUIET_WARNINGS) if w)
    return env


def server_command(port: int, host: str = "127.0.0.1", open_browser: bool = False) -> list[str]:
    """The ``solara run`` command line serving the page."""
    return [
        *_solara_command(), "run", str(PAGE),
        "--host", host, "--port", str(port), "--production", "--no-check-version",
        "--open" if open_browser else "--no-open",
    ]


def wait_for(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """Poll ``url`` until it answers (True) or ``timeout`` s pass or ``proc`` exits (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    return False


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def lan_addresses() -> list[str]:
    """IPv4 addresses of this machine that other devices on the network can reach.

    From the host name's addresses and from the interface the system would route
    to a public address through (a UDP socket that is connected but never sends:
    no packet leaves the machine). Loopback and link-local addresses are left out;
    the routed one comes first.
    """
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only selects a route, sends nothing
            found.append(s.getsockname()[0])
        except OSError:
            pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found += [info[4][0] for info in infos]
    except OSError:
        pass
    return list(dict.fromkeys(a for a in found if _usable(a)))


def page_urls(host: str, port: int) -> list[str]:
    """Addresses to open: the local one, and with all interfaces also the LAN ones."""
    local = f"http://{'127.0.0.1' if host in ALL_INTERFACES else host}:{port}/"
    if host not in ALL_INTERFACES:
        return [local]
    return [local, *(f"http://{a}:{port}/" for a in lan_addresses())]


def qr_text(url: str) -> str | None:
    """A QR code of ``url`` in text (for the terminal), or None without ``qrcode``."""
    try:
        import qrcode
    except ImportError:
        return None
    qr = qrcode.QRCode(border=1)
    qr.add_data(url)
    qr.make(fit=True)
    out = _Lines()
    qr.print_ascii(out=out, invert=True)
    return "".join(out.parts)


class _Lines:
    """A minimal text stream for ``qrcode``'s ``print_ascii``."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def announce(host: str, port: int) -> str:
    """The start-up message: where to open the page, and for a classroom network, a QR code."""
    urls = page_urls(host, port)
    lines = [f"scamsim app: {urls[0]}  (Ctrl-C stops it)"]
    if host in ALL_INTERFACES:
        if len(urls) > 1:
            lines.append("students open: " + "  ".join(urls[1:]))
            qr = qr_text(urls[1])
            lines.append(qr if qr else "(pip install qrcode for a QR code of the address)")
        else:
            lines.append("no network address found: is the machine on a network?")
    return "\n".join(lines)


def serve(port: int = 8765, host: str = "127.0.0.1", open_browser: bool = False) -> int:
    """Serve the demo with ``solara run`` until interrupted; returns the server's exit code."""
    proc = subprocess.Popen(server_command(port, host, open_browser), env=offline_env())

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)  # a terminated launcher takes the server down too
    try:
        if wait_for(page_urls(host, port)[0], timeout=120, proc=proc):
            print(announce(host, port), flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
