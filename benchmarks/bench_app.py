"""Benchmark: steps the teaching app renders per second while playing.

    python benchmarks/bench_app.py [--seconds 10] [--port 0] [--json results/benchmarks/app.json]

Starts the app server (``sim.app.serve``), opens the page in headless Chromium
(Playwright), presses play and samples the step counter shown on the page for
``--seconds``, first in the teaching world, then, after choosing the full world
and pressing Reset, in the full world. Each rate counts only steps the page has
shown, so it includes the model step, drawing the map and plots, and sending them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from sim.app.app import PLAY_INTERVAL_MS, wait_for

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SCAMSIM_CHROMIUM", "/usr/bin/chromium")
STATUS = "[data-testid=scamsim-status]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _step(page: Page) -> int:
    return int(page.locator(STATUS).get_attribute("data-step") or 0)


def measure(page: Page, seconds: float) -> dict[str, float]:
    """Press play, sample the step counter, press pause; rate over the sampled span."""
    samples: list[tuple[float, int]] = [(time.perf_counter(), _step(page))]
    page.get_by_role("button", name="▶").click()
    end = samples[0][0] + seconds
    while time.perf_counter() < end:
        page.wait_for_timeout(200)
        samples.append((time.perf_counter(), _step(page)))
        if page.locator(STATUS).get_attribute("data-running") == "0":
            break  # the horizon: the rest of the window would count nothing
    if page.locator(STATUS).get_attribute("data-running") == "1":
        page.get_by_role("button", name="❚❚").click()
    # From the first change on: the first step waits for the play interval and the task start.
    moved = [s for s in samples if s[1] > samples[0][1]]
    if len(moved) < 2:
        return {"steps_per_s": 0.0, "steps": 0, "seconds": 0.0}
    (t0, s0), (t1, s1) = moved[0], moved[-1]
    return {"steps_per_s": (s1 - s0) / (t1 - t0), "steps": s1 - s0, "seconds": t1 - t0}


def choose_world(page: Page, world: str) -> None:
    """Pick a world in the model parameters and reset the model."""
    select = page.locator(".v-select", has=page.get_by_text("World", exact=True))
    select.click()
    page.get_by_role("option", name=world, exact=True).click()
    page.get_by_role("button", name="Reset").click()
    page.wait_for_selector(f"{STATUS}[data-world='{world}'][data-step='0']", timeout=60_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="sampling window per world")
    ap.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    port = args.port or _free_port()
    code = f"import sys; from sim.app.server import serve; sys.exit(serve(port={port}))"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    results: dict[str, dict[str, float]] = {}
    try:
        if not wait_for(url, timeout=90, proc=proc):
            raise SystemExit(f"the app server did not answer at {url}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(url)
            page.wait_for_selector("img.scamsim-map")
            for world in ("teaching", "world"):
                if world != "teaching":
                    choose_world(page, world)
                results[world] = measure(page, args.seconds)
                r = results[world]
                print(f"{world:>9}: {r['steps_per_s']:.1f} steps/s rendered "
                      f"({r['steps']:.0f} steps in {r['seconds']:.1f} s, "
                      f"play interval {PLAY_INTERVAL_MS} ms)", flush=True)
            browser.close()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        info = {"machine": platform.machine(), "cpus": os.cpu_count(),
                "play_interval_ms": PLAY_INTERVAL_MS, "results": results}
        args.json.write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main()
