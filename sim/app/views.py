"""The teaching page: controls, map, plots, runs table and info, as Solara components.

``solara run sim/app/views.py`` serves :func:`Page` (see :mod:`sim.app.server`).
The model is a Mesa model (:class:`~sim.app.adapter.DemoModel`); the page is
built from Solara components directly rather than with Mesa's ``SolaraViz``.
Mesa 3.5.1's ``SolaraViz`` (checked against
``mesa/visualization/solara_viz.py`` of Mesa 3.5.1) fixes its own controller:
its play loop cannot be started, stopped at a month or throttled from outside,
its *Render Interval* steps past the last month, and it always shows the
*Render Interval* and *Use Threads* controls, the raw ``Time: 55.0`` counter,
a theme toggle and draggable, resizable panels (whose layout could only be
changed by replacing a module attribute). A classroom needs none of that and
needs a few things it cannot do (presets, "run to", kept runs, a "changes
pending" cue), so nothing of it is patched: this page has its own controller
(:func:`TimeControls`), about as long as Mesa's.

Each browser tab gets its own model and its own figures; the play loop runs in
a thread per tab. A Solara render pass walks the whole page (a hundred widgets,
some 15 ms) whatever changed, so while playing fast most months are shown
without one: the play loop draws the figures and sets the few widgets that
show the month directly (:func:`show_month`), and a full pass runs at least once
a second and whenever something else on the page changes (:func:`needs_pass`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import markdown
import pandas as pd
import reacton.ipywidgets as rw
import solara

from sim.app.adapter import (
    COORDINATION,
    LEVERS,
    PRESETS,
    WORLDS,
    DemoModel,
    Preset,
    preset_levers,
    start_preset,
)
from sim.app.figures import MapView, PlotsView
from sim.core.timeline import month_label
from sim.core.world import World

# (months per second, label); 0 = as fast as the model runs, showing a few frames a second.
SPEEDS: tuple[tuple[float, str], ...] = (
    (0.5, "½ month a second"), (1.0, "1 month a second"), (2.0, "2 months a second"),
    (4.0, "4 months a second"), (8.0, "8 months a second"), (0.0, "as fast as possible"),
)
DEFAULT_SPEED = 2  # 2 months a second: a year in six seconds, time to point at the map
MIN_GAP_S = 0.04  # the least pause after a month shown by a render pass
DIRECT_GAP_S = 0.01  # the least pause after a month shown by setting widgets (show_month)
FASTEST_FPS = 4.0  # frames a second shown at "as fast as possible"
FULL_PASS_S = 1.0  # while playing, a full render pass at least this often (download names)
# While playing faster than this, the plots are redrawn at most this often (the map and the
# status line still show every month): the plots are half of a month's drawing on the
# server and in the browser, and several tabs playing at once share two cores.
PLOTS_EVERY_S = 0.4  # 2.5 redraws a second; the default 2 months a second draws every month
KEEP_MAX = 6  # kept runs on the plots and in the table
STOP_EVERY = 6  # "Play until" offers every 6th month
HUBS_LABEL = {"MMR": "Myanmar", "KHM": "Cambodia", "LAO": "Laos", "PHL": "Philippines"}

CSS = """
.scamsim-page { display: grid; grid-template-columns: 290px minmax(0, 1fr); gap: 10px;
  align-items: start; padding: 4px 6px; font-size: 15px; }
.scamsim-side { display: flex; flex-direction: column; gap: 8px; }
.scamsim-side .v-card { padding: 6px 10px !important; }
.scamsim-main { min-width: 0; display: flex; flex-direction: column; gap: 4px; }
.scamsim-main img.scamsim-map, .scamsim-main img.scamsim-plots { width: 100%;
  max-width: 1040px; height: auto; display: block; }
.scamsim-title { font-size: 19px; font-weight: 700; line-height: 1.2; margin: 2px 0; }
.scamsim-card-title { font-size: 16px; font-weight: 700; margin-bottom: 10px;
  display: block; }
.scamsim-pending { background: #FFF3CD; color: #7A4B00; border-radius: 4px;
  padding: 4px 8px; font-weight: 600; }
.scamsim-ended { background: #E8E0F0; color: #3B1F5C; border-radius: 4px;
  padding: 2px 8px; font-weight: 600; }
.scamsim-message { color: #882255; font-size: 15px; }
.scamsim-runs table { border-collapse: collapse; font-size: 15px; }
.scamsim-runs td, .scamsim-runs th { padding: 2px 8px; border-bottom: 1px solid #ddd;
  text-align: right; }
.scamsim-runs td:first-child, .scamsim-runs th:first-child { text-align: left; }
.scamsim-info { font-size: 15px; }
.scamsim-page .v-btn { text-transform: none; letter-spacing: 0; }
.scamsim-page .v-label, .scamsim-page .v-select__selection { font-size: 15px; }
/* Solara's "This website runs on Solara" badge is fixed to the window's corner, over the
   plots' corner (their last tick labels): hidden, the page is for a projector. */
div:has(> b > a[href="https://solara.dev"]) { display: none !important; }
/* Narrow windows (a projector at 150 % zoom): the side panel goes above the map as a
   row of cards instead of a drawer over it. */
@media (max-width: 1150px) {
  .scamsim-page { grid-template-columns: minmax(0, 1fr); }
  .scamsim-side { flex-direction: row; flex-wrap: wrap; }
  .scamsim-side > * { flex: 1 1 300px; }
}
"""


# --- per-tab state -----------------------------------------------------------------------


class Views:
    """The figures of one tab: a map per world (its background is costly), plots per run."""

    def __init__(self) -> None:
        self.maps: dict[str, MapView] = {}
        self.plots: dict[str, tuple[int, PlotsView]] = {}
        self.drawn: dict[str, int] = {}  # the last frame each figure has drawn
        self.changed = threading.Condition()
        # The widgets that show the month, for show_month; set by their components.
        self.live: dict[str, Any] = {}

    def mark_drawn(self, figure: str, frame: int) -> None:
        """Record that ``figure`` has drawn ``frame`` (the play loop waits for it)."""
        with self.changed:
            self.drawn[figure] = frame
            self.changed.notify_all()

    def wait_drawn(self, frame: int, timeout: float) -> None:
        """Block until both figures have drawn ``frame`` (or ``timeout`` s pass)."""
        with self.changed:
            self.changed.wait_for(lambda: min(self.drawn.get("map", -1),
                                              self.drawn.get("plots", -1)) >= frame, timeout)

    def map_for(self, model: DemoModel) -> MapView:
        if model.world_name not in self.maps:
            self.maps[model.world_name] = READY_MAPS.take(model.world_name, model.world)
        return self.maps[model.world_name]

    def plots_for(self, model: DemoModel) -> PlotsView:
        uid, view = self.plots.get(model.world_name, (None, None))
        if view is None:
            view = PlotsView(model)
        elif uid != model.uid:
            view.bind(model)  # reusing the figure keeps matplotlib's text layout cache warm
        self.plots[model.world_name] = (model.uid, view)
        return view


@dataclass
class State:
    """The reactive state of one tab, handed to every component."""

    model: solara.Reactive[DemoModel]
    frame: solara.Reactive[int]  # bumped after every shown step: the figures re-render
    playing: solara.Reactive[bool]
    until: solara.Reactive[int]  # the step where the current play pauses
    stop_at: solara.Reactive[str]  # the "Play until" month
    speed: solara.Reactive[int]
    levers: solara.Reactive[dict[str, Any]]
    message: solara.Reactive[str]
    preset: solara.Reactive[str]
    kept: solara.Reactive[list[dict[str, Any]]]
    views: Views

    def refresh(self) -> int:
        """Ask for the current month to be shown; returns the frame number."""
        self.frame.value += 1
        return self.frame.value

    def replace_model(self, model: DemoModel, message: str = "", preset: str = "") -> None:
        """Stop playing and show ``model`` from its first month."""
        self.playing.value = False
        # Each change is a render pass of its own: the old run's message goes before the
        # status line shows the new run (a test waiting for the new run sees no stale note).
        self.message.value = message
        self.preset.value = preset
        self.model.value = model
        self.refresh()

    def reset(self) -> None:
        """A fresh run with the settings on the page (the Reset button)."""
        self.replace_model(DemoModel(**self.levers.value))

    def play(self, months: int | None = None) -> None:
        """Play ``months`` months, or up to the "Play until" month (the end if passed)."""
        m = self.model.value
        if months is not None:
            until = m.steps + months
        else:
            until = m.month_step(self.stop_at.value)
            if until <= m.steps:
                until = m.horizon
        self.until.value = min(until, m.horizon)
        self.playing.value = True


def stop_months(model: DemoModel) -> list[str]:
    """The months "Play until" offers: every 6th month of the run, and its last one."""
    steps = [*range(STOP_EVERY, model.horizon, STOP_EVERY), model.horizon]
    return [month_label(model.start, s) for s in steps]


def pending_changes(levers: dict[str, Any], model: DemoModel) -> list[str]:
    """The settings on the page that differ from those of the running model."""
    now = model.levers()
    out = []
    for key, value in levers.items():
        same = (round(float(value), 6) == round(float(now[key]), 6)
                if isinstance(value, int | float) else value == now[key])
        if not same:
            out.append(f"{key.replace('_', ' ')} {now[key]} → {value}")
    return out


def needs_pass(model: DemoModel) -> bool:
    """Whether this month changes more than :func:`show_month` shows.

    The first month enables "Keep this run", a planned crackdown that starts
    leaves the "planned" list, and the last month disables the time controls.
    """
    return (model.steps <= 1 or model.ended
            or any(c.first == model.steps for c in model.page_crackdowns))


def show_month(state: State, plots: bool = True) -> None:
    """Show the current month without a render pass: figures, status and the runs table.

    Sets the widgets the components registered in ``state.views.live`` (an image
    whose bytes did not change is not sent again: traitlets only sends changes).
    The components put the same content there at their next render. ``plots=False``
    leaves the plots as they are (the play loop's throttle, :data:`PLOTS_EVERY_S`).
    """
    views, model = state.views, state.model.value
    live = views.live
    updates = [("map", {"value": views.map_for(model).render(model)})]
    if plots:
        updates.append(
            ("plots", {"value": views.plots_for(model).render(model, state.kept.value)}))
    updates += [
        ("status", dict(zip(("children", "attributes"), status_content(state), strict=True))),
        ("runs", {"unsafe_innerHTML": runs_html(state)}),
    ]
    for name, values in updates:
        widget = live.get(name)
        if widget is not None:
            set_widget(widget, values)


def set_widget(widget: Any, values: dict[str, Any]) -> None:
    """Set traits of ``widget`` in one message (none if nothing changed)."""
    with widget.hold_sync():
        for key, value in values.items():
            setattr(widget, key, value)


def play_loop(state: State, cancel: threading.Event) -> None:
    """Step the model while playing; pause at ``until``, at the horizon or when cancelled.

    At a fixed speed every month is shown, the wait after a step shortened by the
    time drawing took (faster than one month every :data:`PLOTS_EVERY_S` the plots are
    redrawn only that often); "as fast as possible" shows only a few frames a second.
    """
    if not state.playing.value or cancel.is_set():
        return  # a thread for "paused": it must not touch the state (a play may be starting)
    model = state.model.value
    shown = passed = plotted = time.monotonic()
    stale = False  # the plots skipped the last month shown
    while not cancel.is_set() and state.playing.value and model is state.model.value:
        until = min(state.until.value, model.horizon)
        if model.steps >= until:
            break
        t0 = time.monotonic()
        model.step()
        rate = SPEEDS[state.speed.value][0]
        if rate > 0:
            if needs_pass(model) or t0 - passed >= FULL_PASS_S:
                # Solara draws on another thread: wait for the frame, so that stepping never
                # runs ahead of what the page shows (then the speed is what drawing allows).
                state.views.wait_drawn(state.refresh(), timeout=2.0)
                passed = plotted = t0
                stale = False
            else:
                redraw = t0 - plotted >= PLOTS_EVERY_S
                show_month(state, plots=redraw)
                plotted = t0 if redraw else plotted
                stale = not redraw
            # Never change the state again at once after a render pass: reacton re-renders
            # while state changes and gives up ("too many renders") if another thread changes
            # it every pass. Setting widgets directly changes no state: a short breath will do.
            gap = MIN_GAP_S if passed == t0 else DIRECT_GAP_S
            cancel.wait(max(gap, 1.0 / rate - (time.monotonic() - t0)))
        elif model.steps >= until or t0 - shown >= 1.0 / FASTEST_FPS:
            state.refresh()
            shown = time.monotonic()
    if stale and model is state.model.value:
        show_month(state)  # paused between two plot redraws: the plots catch up with the map
    if cancel.is_set() or model is not state.model.value:
        return  # paused, reset or superseded: whoever did that owns the state now
    state.refresh()
    state.playing.value = False


# --- components --------------------------------------------------------------------------


def _choices(world: World) -> list[str]:
    """Multi-select entries: the starting hubs first, then the others by name."""
    order = sorted(range(world.n), key=lambda j: (world.iso3[j] not in HUBS_LABEL,
                                                  world.names[j]))
    return [f"{world.names[j]} ({world.iso3[j]})" for j in order]


def _iso(choice: str) -> str:
    return choice.rsplit("(", 1)[-1].rstrip(")")


def status_content(state: State) -> tuple[list[str], dict[str, str]]:
    """The status line (as Html children) and its data attributes, for tests and benchmarks."""
    model = state.model.value
    s = model.summary()
    views = state.views
    text = (f"{s['month']} · month {s['step']} of {model.horizon} · {s['total']:,} workers in "
            f"{s['countries']} countries · 4 hubs {s['hubs']:,} · rest of world {s['rest']:,}"
            f" · Myanmar {s['myanmar']:,}")
    attrs = {
        "data-testid": "scamsim-status",
        "data-step": str(s["step"]),
        "data-month": s["month"],
        "data-hub-workers": str(s["hubs"]),
        "data-rest-workers": str(s["rest"]),
        "data-myanmar-workers": str(s["myanmar"]),
        "data-total-workers": str(s["total"]),
        "data-countries": str(s["countries"]),
        "data-rescued": str(s["rescued"]),
        "data-running": "1" if state.playing.value else "0",
        "data-ended": "1" if model.ended else "0",
        "data-world": model.world_name,
        "data-seed": str(model.seed_value),
        "data-map-font-px": f"{views.map_for(model).font_px:.2f}",
        "data-plots-font-px": f"{views.plots_for(model).font_px:.2f}",
    }
    return [text], attrs


def use_live(state: State, name: str, element: Any, values: dict[str, Any]) -> None:
    """Register the widget of ``element`` for :func:`show_month` and set ``values`` on it.

    ``element`` must be the only element of its component (reacton's ``get_widget``
    does not find one handed to another component, such as a card's child).
    The values that change with the month are never passed as the element's
    arguments: reacton would not put them back after :func:`show_month` changed
    the widget (the arguments look unchanged). They are set here after every
    render instead.
    """

    def push() -> None:
        widget = solara.get_widget(element)
        state.views.live[name] = widget
        set_widget(widget, values)

    solara.use_effect(push, None)


@solara.component
def Status(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """The month and the key numbers, and a note when the run has ended."""
    state.frame.value  # noqa: B018 - subscribe: re-render with every shown month
    StatusLine(state)
    if state.model.value.ended:
        solara.Div(children=["Run ended — press Reset (or keep it for comparison first)"],
                   classes=["scamsim-ended"])


@solara.component
def StatusLine(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """The status line alone (the root of its component: its widget is found for show_month)."""
    state.frame.value  # noqa: B018 - subscribe: re-render with every shown month
    children, attrs = status_content(state)
    line = solara.v.Html(tag="div", style_="font-size: 16px; font-weight: 500; margin: 2px 0;")
    use_live(state, "status", line, {"children": children, "attributes": attrs})


@solara.component
def TimeControls(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """Reset, play/pause, step, 6 months, "Play until" and the speed; runs the play loop."""
    state.frame.value  # noqa: B018 - the buttons depend on the month
    model = state.model.value
    playing = state.playing.value
    solara.use_thread(lambda cancel: play_loop(state, cancel), intrusive_cancel=False,
                      dependencies=[playing, model.uid])
    pending = bool(pending_changes(state.levers.value, model))

    def step() -> None:
        model.step()
        state.refresh()

    def toggle() -> None:
        if state.playing.value:
            state.playing.value = False
            state.refresh()  # "as fast as possible" may not have shown the last month yet
        else:
            state.play()

    months = stop_months(model)
    if state.stop_at.value not in months:
        state.stop_at.value = months[-1]
    with solara.Row(style="align-items: center; flex-wrap: wrap; gap: 8px;"):
        solara.Button("Reset", color="warning" if pending else "primary", on_click=state.reset)
        solara.Button("❚❚" if playing else "▶", color="primary", on_click=toggle,
                      disabled=model.ended and not playing)
        solara.Button("Step", color="primary", on_click=step, disabled=playing or model.ended)
        solara.Button("Run 6 months", color="primary", on_click=lambda: state.play(6),
                      disabled=playing or model.ended)
        solara.Select("Play until", values=months, value=state.stop_at, dense=True,
                      style="max-width: 150px;")
        with solara.Row(style="align-items: center; gap: 4px; min-width: 330px;",
                        classes=["scamsim-speed"]):
            solara.Text("slower")
            with solara.Div(style="width: 140px;"):
                solara.SliderInt("", value=state.speed, min=0, max=len(SPEEDS) - 1,
                                 thumb_label=False)
            solara.Text("faster")
            solara.Text(f"({SPEEDS[state.speed.value][1]})", style="color: #555;")


@solara.component
def MapPanel(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """The bubble map of the current month."""
    frame = state.frame.value
    model = state.model.value
    view = state.views.map_for(model)
    # Drawn again only when the month or the run changed (a click shows the same map).
    png = solara.use_memo(lambda: view.render(model), [model.uid, model.steps])
    state.views.mark_drawn("map", frame)
    image = rw.Image(format="png", _dom_classes=["scamsim-map"])
    use_live(state, "map", image, {"value": png})


@solara.component
def PlotsPanel(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """The four live plots, kept runs faded."""
    frame = state.frame.value
    model = state.model.value
    kept = state.kept.value
    view = state.views.plots_for(model)
    png = solara.use_memo(lambda: view.render(model, kept),
                          [model.uid, model.steps, tuple(model.crackdowns),
                           tuple(k["label"] for k in kept)])
    state.views.mark_drawn("plots", frame)
    image = rw.Image(format="png", _dom_classes=["scamsim-plots"])
    use_live(state, "plots", image, {"value": png})


@solara.component
def CrackdownCard(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """Choose countries, crack down next month, undo a planned crackdown."""
    state.frame.value  # noqa: B018 - "next month" moves on
    model = state.model.value
    choices = _choices(model.world)
    picked, set_picked = solara.use_state([c for c in choices if c.endswith("(MMR)")],
                                          key=model.world_name)
    picked = [c for c in picked if c in choices]

    def crack_down() -> None:
        targets = [_iso(c) for c in picked]
        first = model.steps + 1
        month = month_label(model.start, first)
        already = model.scheduled(targets, first)
        added = model.crack_down(targets, first)
        if added:
            text = f"Crackdown from {month}: {model.crackdowns[-1][1]}"
            if already:
                text += f" ({', '.join(already)} already scheduled)"
        elif already:
            text = f"Already scheduled: crackdown in {', '.join(already)} from {month}"
        else:
            text = "The run has ended: press Reset"
        state.message.value = text
        state.refresh()

    def undo() -> None:
        undone = model.undo_crackdown()
        if undone is not None:
            month = month_label(model.start, undone.first)
            state.message.value = f"Undone: the crackdown in {undone.label} ({month})"
        state.refresh()

    with solara.Card(margin=0):
        solara.Text("Crack down", classes=["scamsim-card-title"])
        solara.SelectMultiple("Crack down in", values=picked, all_values=choices,
                              on_value=set_picked, dense=True)
        with solara.Row(style="gap: 6px; flex-wrap: wrap;"):
            solara.Button("Crack down now", color="error", on_click=crack_down,
                          disabled=not picked or model.ended, classes=["scamsim-crackdown"])
            pending = model.pending_crackdowns()
            solara.Button("Undo", outlined=True, on_click=undo, disabled=not pending,
                          classes=["scamsim-undo"])
        for c in model.pending_crackdowns():
            solara.Div(children=[f"planned: {c.label} from {month_label(model.start, c.first)}"])
        if state.message.value:
            solara.Div(children=[state.message.value], classes=["scamsim-message"])


@solara.component
def PresetsCard(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """One button per step of the lesson plan."""

    def start(preset: Preset) -> None:
        seed = int(state.levers.value.get("seed", 1))
        state.levers.value = preset_levers(preset, seed)
        state.replace_model(start_preset(preset, seed), message=f"Preset: {preset.note}",
                            preset=preset.key)

    with solara.Card(margin=0):
        solara.Text("Lesson presets", classes=["scamsim-card-title"])
        with solara.Column(gap="4px"):
            for preset in PRESETS:
                solara.Button(preset.label, on_click=lambda p=preset: start(p), outlined=True,
                              color="primary" if state.preset.value == preset.key else None,
                              style="justify-content: flex-start;",
                              classes=[f"scamsim-preset-{preset.key}"])


@solara.component
def SettingsCard(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """The levers, each with its value; a cue when they differ from the running model."""
    levers = state.levers.value
    model = state.model.value

    def set_lever(name: str) -> Any:
        return lambda value: state.levers.set({**state.levers.value, name: value})

    changes = pending_changes(levers, model)
    with solara.Card(margin=0):
        solara.Text("Settings", classes=["scamsim-card-title"])
        if changes:
            solara.Div(children=["Changes pending — press Reset: " + "; ".join(changes)],
                       classes=["scamsim-pending"], attributes={"data-testid": "scamsim-pending"})
        solara.Select("World", values=list(WORLDS), value=levers["world"],
                      on_value=set_lever("world"), dense=True)
        solara.Select("Coordination", values=list(COORDINATION), value=levers["coordination"],
                      on_value=set_lever("coordination"), dense=True)
        solara.SliderFloat(f"Crackdown intensity: {levers['crackdown_intensity']:.2f}",
                           value=levers["crackdown_intensity"], min=0.1, max=1.0, step=0.05,
                           on_value=set_lever("crackdown_intensity"), thumb_label=False)
        solara.SliderFloat(f"Capacity building: {levers['capacity_building']:.2f}",
                           value=levers["capacity_building"], min=0.0, max=0.5, step=0.05,
                           on_value=set_lever("capacity_building"), thumb_label=False)
        solara.SliderFloat(f"Relocation cost: ×{levers['relocation_cost']:.2f}",
                           value=levers["relocation_cost"], min=0.25, max=4.0, step=0.25,
                           on_value=set_lever("relocation_cost"), thumb_label=False)
        solara.SliderInt(f"Seed: {levers['seed']}", value=levers["seed"], min=1, max=50,
                         on_value=set_lever("seed"), thumb_label=False)


def kept_row(label: str, s: dict[str, Any]) -> dict[str, Any]:
    """A row of the runs table."""
    return {"run": label, "month": s["month"], "hubs": s["hubs"], "rest of world": s["rest"],
            "total workforce": s["total"], "countries with compounds": s["countries"],
            "rescued": s["rescued"]}


def describe_run(model: DemoModel, preset: str) -> str:
    """A short description of a run for the table: preset or settings, crackdowns, seed."""
    name = next((p.label.split("· ", 1)[-1] for p in PRESETS if p.key == preset), "")
    if not name:
        lv = model.levers()
        bits = [lv["world"], lv["coordination"]]
        if lv["capacity_building"]:
            bits.append(f"capacity {lv['capacity_building']:g}")
        if lv["relocation_cost"] != 1:
            bits.append(f"relocation ×{lv['relocation_cost']:g}")
        cds = "; ".join(f"{c.label} {month_label(model.start, c.first)}"
                        for c in model.page_crackdowns) or "no crackdown"
        name = f"{', '.join(bits)}, {cds}"
    return f"{name}, seed {model.seed_value}"


def run_rows(state: State) -> list[dict[str, Any]]:
    """The runs table: the kept runs, then the current one."""
    model = state.model.value
    rows = [kept_row(k["label"], k["summary"]) for k in state.kept.value]
    rows.append(kept_row(f"now: {describe_run(model, state.preset.value)}", model.summary()))
    return rows


def runs_html(state: State) -> str:
    """The runs table as HTML, each row with its numbers as data attributes."""
    kept = state.kept.value
    rows = run_rows(state)
    cells = []
    for k, row in enumerate(rows):
        current = k == len(rows) - 1
        tds = "".join(f"<td>{v:,}</td>" if isinstance(v, int) else f"<td>{v}</td>"
                      for v in row.values())
        attrs = (f'data-run="{"now" if current else kept[k]["n"]}" data-hubs="{row["hubs"]}" '
                 f'data-rest="{row["rest of world"]}" data-total="{row["total workforce"]}" '
                 f'data-countries="{row["countries with compounds"]}" '
                 f'data-rescued="{row["rescued"]}"')
        style = ' style="font-weight: 600"' if current else ""
        cells.append(f"<tr {attrs}{style}>{tds}</tr>")
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    return (f'<table data-testid="scamsim-runs"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(cells)}</tbody></table>')


def download_sources(state: State) -> tuple[Callable[[], str], Callable[[], bytes],
                                            Callable[[], bytes]]:
    """What the CSV, map and plots buttons download, read from the state when clicked."""

    def csv() -> str:
        return pd.DataFrame(run_rows(state)).to_csv(index=False)

    def map_png() -> bytes:
        return state.views.map_for(state.model.value).full_png()

    def plots_png() -> bytes:
        return state.views.plots_for(state.model.value).full_png()

    return csv, map_png, plots_png


@solara.component
def RunsCard(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """Keep runs for comparison; the table of kept runs and the current one; downloads."""
    state.frame.value  # noqa: B018 - the current row follows the month
    model = state.model.value
    kept = state.kept.value
    now = model.summary()
    # The same functions every month: FileDownload starts a thread (and renders three more
    # times) whenever its data changes, which a new lambda each frame would be.
    csv, map_png, plots_png = solara.use_memo(lambda: download_sources(state), [])

    def keep() -> None:
        n = (kept[-1]["n"] + 1) if kept else 1
        label = f"{n}: {describe_run(model, state.preset.value)}"
        run = {"n": n, "label": label, "short": f"run {n}", "summary": model.summary(),
               "series": model.series()}
        state.kept.value = [*state.kept.value, run][-KEEP_MAX:]

    with solara.Card(margin=0, classes=["scamsim-runs"]):
        with solara.Row(style="align-items: center; gap: 8px; flex-wrap: wrap;"):
            solara.Text("Compare runs", classes=["scamsim-card-title"])
            solara.Button("Keep this run", color="primary", on_click=keep,
                          disabled=model.steps == 0)
            solara.Button("Clear kept runs", outlined=True, disabled=not kept,
                          on_click=lambda: state.kept.set([]))
            solara.FileDownload(csv, filename="scamsim_runs.csv", label="Table (CSV)",
                                mime_type="text/csv")
            # While playing, the names follow the month at each full pass (FULL_PASS_S).
            solara.FileDownload(map_png, filename=f"scamsim_map_{now['month']}.png",
                                label="Map (PNG)", mime_type="image/png")
            solara.FileDownload(plots_png, filename=f"scamsim_plots_{now['month']}.png",
                                label="Plots (PNG)", mime_type="image/png")
        RunsTable(state)


@solara.component
def RunsTable(state: State) -> None:  # noqa: N802 - Solara components are CamelCase
    """The kept runs and the current one (a component: its widget is found for show_month)."""
    state.frame.value  # noqa: B018 - the current row follows the month
    table = solara.widgets.HTML.element(tag="div", attributes={"style": "overflow-x: auto;"})
    use_live(state, "runs", table, {"unsafe_innerHTML": runs_html(state)})


INFO = """
## WHAT IS IT?

A model of transnational scam syndicates that run "scam compounds" with
trafficked workers, and move them between countries when enforcement rises. It
tests a claim of the UN Office on Drugs and Crime (UNODC 2025): enforcement in one
place does not remove the industry, *"it spreads like a cancer … the roots never
disappear, they simply migrate"*.

## HOW IT WORKS

Each month (one step) every compound earns from victims worldwide; enforcement
agencies raid compounds (more where their pressure is high, less where officials
are bribed); syndicates learn from raids which places are risky, move compounds
out of risky places and open new ones where they expect profit. Destinations are
chosen among all countries by weighing weak regulation, working infrastructure,
partner criminal groups, other compounds nearby, pressure, learned risk,
enforcement capacity and the distance (cost) of the move. Agencies raise their
pressure when they see compounds, but only months later and only as far as their
capacity allows. Countries are described by real public data.

## HOW TO USE IT

- **Lesson presets** (left) set up each step of the lesson plan with one click:
  settings, a fresh run and (except the baseline) a Myanmar crackdown planned for
  2023-08.
- **Step** advances one month, **Run 6 months** plays half a year, **▶** plays
  until the *Stop at* month (then pauses), **Reset** starts again with the
  settings on the left. *Speed* goes from slower to faster.
- **Crack down in** / **Crack down now**: choose one or more countries (Myanmar by
  default) and start a 12-month crackdown next month; **Undo** takes a planned
  one back before it starts. With *coordination* ASEAN or global, the crackdown
  also starts 36 months of intelligence sharing among the ASEAN states or among
  all states.
- The **map** shows workers per country (bubble area) and enforcement pressure
  (colour); arrows are this month's relocations. Small rings are the countries
  the syndicates can choose from.
- The **plots** show the four starting hubs against the rest of the world, how
  many countries host compounds, the regional shares and the workers rescued.
  Dotted lines mark the crackdowns. **Keep this run** leaves a run on the plots
  (faded) and in the table below them, to compare with the next one.

## THINGS TO NOTICE

- After a crackdown in Myanmar its bubble shrinks within months, but arrows leave
  it: where do they go? Do neighbours grow?
- Does the "rest of world" line rise when the hubs fall? Does the total come back?
- How many countries host compounds before and after the crackdown?
- Pressure (colour) follows the compounds only with a delay.

## THINGS TO TRY

- Crack down on Myanmar alone, then Reset and do it with coordination ASEAN, and
  global. Which one shrinks the total rather than moving it?
- Crack down on all four hubs at once. Then a year later wherever the industry has
  gone ("whack-a-mole").
- Set capacity building to 0.3 and repeat the Myanmar crackdown.
- Make relocation cheap (0.25) or expensive (4) and compare where compounds go.
- Switch to the full world (193 countries) and compare with the teaching world.
- Change the seed: which results are robust, which are luck?

## FACTS AND SOURCES

- Scam compounds are concentrated in Myanmar's border areas, in Cambodia and in
  Laos, and have spread since 2023 to Africa, the Pacific, South America, the
  Middle East and Europe (UNODC 2025).
- Losses of victims in East and South-East Asia were an estimated US$18–37
  billion in 2023 (UNODC 2024); the industry's profits are just under US$40
  billion a year (UNODC 2025).
- At least 120,000 people were held in Myanmar and around 100,000 in Cambodia,
  many of them trafficked (OHCHR 2023).
- About 7,000 workers were freed after the early-2025 Myanmar border crackdown;
  in February 2025 Thailand cut power, internet and fuel to the border areas.
- Syndicates partner with other organised-crime groups and launder through
  crypto; their own digital infrastructure lets a raided organisation set up
  again elsewhere.

Countries are described by the World Bank Worldwide Governance Indicators (2024
update) and World Development Indicators (GDP), the GI-TOC Global Organized
Crime Index 2023 and country centroids (world-countries-centroids); outlines come
from Basemap's GSHHS data. The model is stylised and data-anchored, not a
forecast: where compounds go after 2023 is not encoded anywhere. Full
description: docs/ODD.md.

UNODC (2024, 2025), *Transnational Organized Crime and the Convergence of
Cyber-Enabled Fraud…* and *Inflection Point: Global Implications of Scam
Centres…*; OHCHR (2023), *Online Scam Operations and Trafficking into Forced
Criminality in Southeast Asia*.
"""


@solara.component
def InfoPanel() -> None:  # noqa: N802 - Solara components are CamelCase
    """NetLogo-style info text."""
    # Rendered here rather than with solara.Markdown, which loads KaTeX from a CDN.
    html = solara.use_memo(lambda: markdown.markdown(INFO), [])
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["scamsim-info"],
                style="padding: 0 12px 12px 12px; max-width: 1040px;")


@solara.component
def Page() -> None:  # noqa: N802 - Solara components are CamelCase
    """The page: one fresh model per browser tab."""
    first = solara.use_memo(lambda: DemoModel(**LEVERS), [])
    state = State(
        model=solara.use_reactive(first),
        frame=solara.use_reactive(0),
        playing=solara.use_reactive(False),
        until=solara.use_reactive(first.horizon),
        stop_at=solara.use_reactive(month_label(first.start, first.horizon)),
        speed=solara.use_reactive(DEFAULT_SPEED),
        levers=solara.use_reactive(dict(LEVERS)),
        message=solara.use_reactive(""),
        preset=solara.use_reactive(""),
        kept=solara.use_reactive([]),
        views=solara.use_memo(Views, []),
    )
    solara.Title("scamsim: where do scam compounds go?")
    solara.Style(CSS)
    with solara.Div(classes=["scamsim-page"]):
        with solara.Div(classes=["scamsim-side"]):
            solara.Text("scamsim: where do scam compounds go?", classes=["scamsim-title"])
            PresetsCard(state)
            CrackdownCard(state)
            SettingsCard(state)
        with solara.Div(classes=["scamsim-main"]):
            TimeControls(state)
            Status(state)
            MapPanel(state)
            PlotsPanel(state)
            RunsCard(state)
            InfoPanel()


class MapPool:
    """Maps built before any tab asks (a few seconds each); each is handed out once."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.ready: dict[str, MapView] = {}
        self.building: set[str] = set()

    def build(self, world: str) -> None:
        """Build a map of ``world`` for the first tab that shows it."""
        with self.changed:
            self.building.add(world)
        try:
            view = MapView(DemoModel(world=world).world)
            with self.changed:
                self.ready[world] = view
        finally:
            with self.changed:
                self.building.discard(world)
                self.changed.notify_all()

    def take(self, name: str, world: World) -> MapView:
        """The map built ahead for ``name`` (waiting if it is being built), else a new one."""
        with self.changed:
            self.changed.wait_for(lambda: name not in self.building, timeout=120)
            view = self.ready.pop(name, None)
        return view if view is not None else MapView(world)


READY_MAPS = MapPool()


def warm_caches() -> None:
    """Build a map of each world (and Basemap's caches) for the first tab that shows it."""
    for world in WORLDS:
        READY_MAPS.build(world)


# The server sets this (sim.app.server): warm the Basemap caches while nobody waits yet.
if os.environ.get("SCAMSIM_APP_WARM") == "1":
    threading.Thread(target=warm_caches, name="scamsim-warm", daemon=True).start()
