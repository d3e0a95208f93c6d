"""Benchmark: months the teaching page shows per second while playing, one tab and three.

    python benchmarks/bench_app.py [--seconds 10] [--tabs 3] [--repeat 1] [--port 0] [--json FILE]

Starts the app server (``sim.app.server.serve``), opens the page in headless
Chromium (Playwright), sets the speed to the fastest setting that still shows
every month (8 months a second), presses play and samples the month counter
the page shows for ``--seconds``: first in one tab, then in ``--tabs`` tabs
playing at once (each its own model, on the same server), in the teaching
world and, after choosing the full world and pressing Reset, in the full world.
A rate counts only months the page has shown, so it includes the model step,
drawing the map and plots, and sending them to the browser. With ``--repeat N``
every case is measured N times (one after the other, each after a Reset) and the
median of each tab's rates is printed at the end. Every line also says how many
CPUs other work on the machine kept busy meanwhile (on Linux), because that slows
the page: its numbers are comparable only between runs with little other work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from sim.app.server import wait_for
from sim.app.views import SPEEDS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SCAMSIM_CHROMIUM", "/usr/bin/chromium")
STATUS = "[data-testid=scamsim-status]"
EVERY_MONTH = max(k for k, (rate, _) in enumerate(SPEEDS) if rate > 0)  # 8 months a second


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU seconds of the machine, of this process and its descendants), from /proc."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        parent: dict[int, int] = {}
        used: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(entry)] = int(rest[1])
            used[int(entry)] = int(rest[11]) + int(rest[12])  # utime + stime
        ours, me = 0, os.getpid()
        for pid in used:
            p = pid
            while p > 1 and p != me:
                p = parent.get(p, 0)
            ours += used[pid] if p == me else 0
        return busy / tick, ours / tick
    except (OSError, ValueError, IndexError):
        return None


def _others(before: tuple[float, float] | None, after: tuple[float, float] | None,
            seconds: float) -> str:
    """How many CPUs other work kept busy between two :func:`_cpu_seconds`."""
    if before is None or after is None or seconds <= 0:
        return ""
    cpus = ((after[0] - before[0]) - (after[1] - before[1])) / seconds
    return f"; other work {max(0.0, cpus):.1f} CPUs"


def _step(page: Page) -> int:
    return int(page.locator(STATUS).get_attribute("data-step") or 0)


def prepare(page: Page, world: str) -> None:
    """Choose ``world``, Reset, and set the fastest speed that shows every month."""
    current = page.locator(STATUS).get_attribute("data-world")
    if current != world:
        page.locator(".v-select").filter(has_text="World").first.click()
        page.get_by_role("option", name=world, exact=True).click()
        page.wait_for_timeout(300)
    page.get_by_role("button", name="Reset").click()
    page.wait_for_selector(f"{STATUS}[data-world='{world}'][data-step='0']", timeout=60_000)
    slider = page.locator(".scamsim-speed [role=slider]")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(EVERY_MONTH):
        page.keyboard.press("ArrowRight")
    page.get_by_text(SPEEDS[EVERY_MONTH][1]).wait_for()


def measure(pages: list[Page], seconds: float) -> list[dict[str, float]]:
    """Press play in every tab, sample their counters, pause; one rate per tab."""
    samples: list[list[tuple[float, int]]] = [[(time.perf_counter(), _step(p))] for p in pages]
    for p in pages:
        p.get_by_role("button", name="▶").click()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pages[0].wait_for_timeout(200)
        for p, s in zip(pages, samples, strict=True):
            s.append((time.perf_counter(), _step(p)))
    for p in pages:
        if p.locator(STATUS).get_attribute("data-running") == "1":
            p.get_by_role("button", name="❚❚").click()
    out = []
    for s in samples:
        # From the first change on: the first month waits for the play interval.
        moved = [x for x in s if x[1] > s[0][1]]
        if len(moved) < 2:
            out.append({"months_per_s": 0.0, "months": 0, "seconds": 0.0})
            continue
        (t0, s0), (t1, s1) = moved[0], moved[-1]
        out.append({"months_per_s": (s1 - s0) / (t1 - t0), "months": s1 - s0,
                    "seconds": t1 - t0})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="sampling window per run")
    ap.add_argument("--tabs", type=int, default=3, help="tabs playing at once in the 2nd run")
    ap.add_argument("--repeat", type=int, default=1, help="measurements of each case (medians)")
    ap.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    port = args.port or _free_port()
    code = f"import sys; from sim.app.server import serve; sys.exit(serve(port={port}))"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    runs: dict[str, list[list[dict[str, float]]]] = {}
    try:
        if not wait_for(url, timeout=90, proc=proc):
            raise SystemExit(f"the app server did not answer at {url}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            pages = []
            for _ in range(max(1, args.tabs)):
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.set_default_timeout(60_000)
                page.goto(url)
                page.wait_for_selector("img.scamsim-map")
                pages.append(page)
            for _ in range(max(1, args.repeat)):
                for world in ("teaching", "world"):
                    for n in sorted({1, len(pages)}):
                        for page in pages[:n]:
                            prepare(page, world)
                        key = f"{world}, {n} tab{'s' if n > 1 else ''}"
                        before, t0 = _cpu_seconds(), time.perf_counter()
                        runs.setdefault(key, []).append(measure(pages[:n], args.seconds))
                        others = _others(before, _cpu_seconds(), time.perf_counter() - t0)
                        rates = ", ".join(f"{r['months_per_s']:.1f}" for r in runs[key][-1])
                        print(f"{key:>18}: {rates} months/s shown "
                              f"(speed set to {SPEEDS[EVERY_MONTH][1]}{others})", flush=True)
            browser.close()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
    # Per case and tab, the median over the repeats.
    results = {key: [{"months_per_s": statistics.median(run[t]["months_per_s"] for run in rs)}
                     for t in range(len(rs[0]))] for key, rs in runs.items()}
    if args.repeat > 1:
        for key, tabs in results.items():
            rates = ", ".join(f"{r['months_per_s']:.1f}" for r in tabs)
            print(f"{key:>18}: {rates} months/s shown (median of {args.repeat})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        info = {"machine": platform.machine(), "cpus": os.cpu_count(),
                "speed": SPEEDS[EVERY_MONTH][1], "results": results, "runs": runs}
        args.json.write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main()
