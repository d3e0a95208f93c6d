"""The teaching app in a real browser: it serves offline, steps, and a crackdown bites.

Starts ``sim.app.serve`` on a free local port and drives the page with
Playwright and Debian's Chromium. Skipped when either is missing.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
CHROMIUM = os.environ.get("SCAMSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_S = 60
WATCHDOG_S = 150  # the whole browser test takes about 15 s
STEPS_BEFORE = 6
# A Myanmar crackdown empties most of Myanmar within a year: over seeds 1-30 the
# workforce 12 months later is at most 23% (teaching world) of what it was, the
# four hubs together at most 92%.
STEPS_AFTER = 12

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

from sim.app.server import wait_for  # noqa: E402  (after the skips: the app needs the app extra)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen) -> None:
    """End the server's whole process group (the launcher and ``solara run``)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a freshly started app server, stopped after the module."""
    logs = tmp_path_factory.mktemp("app")
    port = _free_port()
    out = (logs / "stdout.txt").open("wb")
    err = (logs / "stderr.txt").open("wb")
    code = f"import sys; from sim.app.server import serve; sys.exit(serve(port={port}))"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    # Never hang: past this, the server goes and every pending browser wait fails fast.
    watchdog = threading.Timer(WATCHDOG_S, _stop, args=(proc,))
    watchdog.daemon = True
    watchdog.start()
    try:
        if not wait_for(url, timeout=STARTUP_S, proc=proc):
            err.flush()
            tail = (logs / "stderr.txt").read_text(errors="replace")[-3000:]
            state = f"exited with {proc.returncode}" if proc.poll() is not None else "still silent"
            pytest.fail(f"app server did not answer at {url} within {STARTUP_S} s ({state}); "
                        f"stderr:\n{tail}")
        yield url
    finally:
        watchdog.cancel()
        _stop(proc)
        out.close()
        err.close()


def _status(page) -> dict[str, str]:
    el = page.locator("[data-testid=scamsim-status]")
    return {k: el.get_attribute(f"data-{k}") or "" for k in
            ("step", "month", "myanmar-workers", "hub-workers", "total-workers")}


def _step(page, times: int) -> None:
    button = page.get_by_role("button", name="Step", exact=True)
    for _ in range(times):
        now = int(_status(page)["step"])
        button.click()
        page.wait_for_selector(f"[data-testid=scamsim-status][data-step='{now + 1}']")


def _differs(a: bytes, b: bytes) -> bool:
    from PIL import Image, ImageChops

    ia, ib = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    return ia.size != ib.size or ImageChops.difference(ia, ib).getbbox() is not None


def test_app_offline_step_and_crackdown(app_url: str) -> None:
    outside: list[str] = []
    failed: list[str] = []

    def local_only(route) -> None:
        host = urlparse(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(15_000)
            page.route("**/*", local_only)
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.goto(app_url)

            # The map, the plots and the info panel are there.
            page.wait_for_selector("img.scamsim-map")
            page.wait_for_selector("img.scamsim-plots")
            assert page.locator("img.scamsim-map").count() == 1
            assert page.locator("img.scamsim-plots").count() == 1
            info = page.locator(".scamsim-info")
            for heading in ("WHAT IS IT?", "HOW IT WORKS", "HOW TO USE IT", "THINGS TO NOTICE",
                            "THINGS TO TRY", "FACTS AND SOURCES"):
                assert heading in info.inner_text()
            assert _status(page)["step"] == "0"
            assert _status(page)["month"] == "2023-01"
            page.wait_for_timeout(500)  # let the fonts and images settle for the screenshot
            start = page.screenshot()
            (IMG / "app_start.png").write_bytes(start)

            _step(page, STEPS_BEFORE)
            before = _status(page)

            # Myanmar is preselected; deselect and reselect it through the menu.
            crack = page.get_by_role("button", name="Crack down now")
            select = page.locator(".v-select").filter(has_text="Crack down in")
            select.click()
            page.get_by_role("option", name="Myanmar (MMR)").click()
            sync_api.expect(crack).to_be_disabled()
            page.get_by_role("option", name="Myanmar (MMR)").click()
            page.keyboard.press("Escape")
            sync_api.expect(select).to_contain_text("Myanmar (MMR)")
            sync_api.expect(crack).to_be_enabled()
            crack.click()
            page.get_by_text("Crackdown from 2023-08").wait_for()

            _step(page, STEPS_AFTER)
            after = _status(page)
            assert int(after["step"]) == STEPS_BEFORE + STEPS_AFTER
            page.wait_for_timeout(500)
            shot = page.screenshot()
            (IMG / "app_after_crackdown.png").write_bytes(shot)
        finally:
            browser.close()

    assert _differs(start, shot), "the page did not change after stepping and the crackdown"
    mmr_before, mmr_after = int(before["myanmar-workers"]), int(after["myanmar-workers"])
    hubs_before, hubs_after = int(before["hub-workers"]), int(after["hub-workers"])
    assert mmr_after < 0.5 * mmr_before, (mmr_before, mmr_after)
    assert hubs_after < 0.95 * hubs_before, (hubs_before, hubs_after)
    assert not outside, f"the page asked for non-local resources: {outside[:5]}"
    assert not failed, f"resources failed to load (missing offline assets?): {failed[:5]}"


def test_demo_model_crackdown_and_levers() -> None:
    """The same crackdown without a browser; the sliders reach the model."""
    from sim.app.adapter import DemoModel
    from sim.core.interventions import Cooperation, Crackdown

    m = DemoModel(world="teaching", coordination="ASEAN", capacity_building=0.3,
                  relocation_cost=2.0, seed=3)
    assert m.p.beta_distance == pytest.approx(2 * 0.35)
    assert any(iv.kind == "capacity_building" for iv in m.interventions)
    m.run_for(STEPS_BEFORE)
    added = m.crack_down(["MMR"])
    assert [type(iv) for iv in added] == [Crackdown, Cooperation]
    assert added[0].start == "2023-08" and added[0].start_step == STEPS_BEFORE + 1
    assert m.crackdowns == [(STEPS_BEFORE + 1, "MMR + ASEAN")]
    t0 = time.perf_counter()
    while m.running:
        m.step()
    assert m.steps == m.horizon == 120
    assert time.perf_counter() - t0 < 30
    assert m.crack_down(["MMR"]) == []  # nothing after the horizon
    kinds = {ev[1] for ev in m.events}
    assert {"intervention:crackdown", "intervention:cooperation"} <= kinds
