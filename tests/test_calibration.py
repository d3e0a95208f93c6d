"""ABC-SMC calibration end to end on the teaching world, on a toy target set.

Quick: 8 particles, 2 generations, 2 parameters, one run per particle. Checks that the
outputs are written, that an interrupted calibration resumes from its database, and that
the same seed gives the same posterior whatever the number of processes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pyabc")

from sim.analysis import calibration as cal

TOY = ("esea_losses_2023", "workforce_mmr_2023", "myanmar_release_2025", "ledger_rank")


def toy_targets() -> pd.DataFrame:
    t = cal.load_targets()
    return t[t["id"].isin(TOY)].reset_index(drop=True)


def toy_settings(**kw) -> cal.CalibrationSettings:
    base = dict(population=8, generations=2, seeds=1, seed=7, procs=2)
    return cal.CalibrationSettings.quick(**{**base, **kw})


PRIORS = cal.select_priors(["raid_rate", "productivity_usd"])


class InterruptError(Exception):
    pass


def _interrupt_after_first_generation(msg: str) -> None:
    if msg.startswith("generation 0"):
        raise InterruptError


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One uninterrupted calibration (2 processes) and one interrupted then resumed (1)."""
    a = tmp_path_factory.mktemp("cal_a")
    b = tmp_path_factory.mktemp("cal_b")
    first = cal.calibrate(toy_settings(), a, targets=toy_targets(), priors=PRIORS, log=None)
    with pytest.raises(InterruptError):
        cal.calibrate(toy_settings(procs=1), b, targets=toy_targets(), priors=PRIORS,
                      log=_interrupt_after_first_generation)
    interrupted = pd.read_csv(b / "generations.csv") if (b / "generations.csv").exists() \
        else None
    messages: list[str] = []
    resumed = cal.calibrate(toy_settings(procs=1), b, targets=toy_targets(), priors=PRIORS,
                            log=messages.append)
    return {"a": a, "b": b, "first": first, "resumed": resumed, "messages": messages,
            "interrupted": interrupted}


def test_outputs_written(runs):
    out = runs["a"]
    for name in ("calibration.db", "posterior.csv", "generations.csv", "predictive.csv",
                 "targets.csv", "calibration.json"):
        assert (out / name).exists(), name
    post = pd.read_csv(out / "posterior.csv")
    assert list(post.columns) == ["raid_rate", "productivity_usd", "weight"]
    assert len(post) == 8 and math.isclose(post["weight"].sum(), 1.0)
    for p in PRIORS:
        assert post[p.name].between(p.low, p.high).all()
    gens = pd.read_csv(out / "generations.csv")
    assert list(gens["generation"]) == [0, 1]
    assert (gens["acceptance_rate"] > 0).all() and (gens["acceptance_rate"] <= 1).all()
    assert gens["epsilon"].iloc[1] <= gens["epsilon"].iloc[0]
    assert (gens["ess"] > 0).all() and (gens["ess"] <= 8 + 1e-9).all()
    pred = pd.read_csv(out / "predictive.csv")
    assert set(pred["target"]) == set(TOY)


def test_resumes_after_an_interruption(runs):
    assert runs["interrupted"] is None  # interrupted before its tables were written
    assert any(m.startswith("resuming after generation 0") for m in runs["messages"])
    assert list(runs["resumed"].generations["generation"]) == [0, 1]


def test_same_seed_same_posterior(runs):
    a = (runs["a"] / "posterior.csv").read_text()
    b = (runs["b"] / "posterior.csv").read_text()
    assert a == b  # 2 processes uninterrupted == 1 process interrupted and resumed


def test_finished_calibration_is_not_rerun(runs):
    again = cal.calibrate(toy_settings(), runs["a"], targets=toy_targets(), priors=PRIORS,
                          log=None)
    assert again.posterior.equals(runs["first"].posterior)


def test_other_settings_refuse_the_database(runs):
    with pytest.raises(cal.CalibrationError, match="other settings"):
        cal.calibrate(toy_settings(seed=8), runs["a"], targets=toy_targets(), priors=PRIORS,
                      log=None)


def test_report_and_install(runs, tmp_path):
    from sim.analysis.calibration_report import calibration_report

    html, md = calibration_report(runs["a"])
    text = md.read_text()
    assert "cannot reach together" in text and "myanmar_release_2025" in text
    assert html.read_text().count("data:image/png;base64") >= 3
    dest = cal.install_posterior(runs["a"], tmp_path / "posterior.csv")
    draws = cal.sample_posterior(5, seed=1, path=dest)
    assert len(draws) == 5 and set(draws[0]) == {"raid_rate", "productivity_usd"}


def test_unknown_parameter_fails_clearly():
    with pytest.raises(cal.CalibrationError, match=r"not fields of sim\.core\.params\.Params"):
        cal.check_priors([cal.Prior("no_such_parameter", 0.1, 1.0)])
    with pytest.raises(cal.CalibrationError, match="must lie in the parameter's range"):
        cal.check_priors([cal.Prior("raid_rate", 0.1, 2.0)])
    with pytest.raises(cal.CalibrationError, match="no prior for"):
        cal.select_priors(["raid_rat"])


def test_prior_table_names_exist():
    cal.check_priors(cal.PRIORS)
    groups = {p.group for p in cal.PRIORS}
    assert {"recruitment and labour", "expansion and exit", "raid outcomes", "host reaction",
            "location weights", "productivity and victims"} <= groups
    names = {p.name for p in cal.PRIORS}
    assert "victim_distance_km" in names and any(n.startswith("beta_") for n in names)


def test_interval_distance():
    d = cal.interval_distance
    assert d(15.0, 10.0, 20.0) == 0.0
    assert d(25.0, 10.0, 20.0) == pytest.approx(0.5)
    assert d(5.0, 10.0, 20.0) == pytest.approx(0.5)
    assert d(5.0, 10.0, 20.0, "log") == pytest.approx(1.0)
    assert d(1e6, 10.0, 20.0, bound="lower") == 0.0
    assert d(float("nan"), 10.0, 20.0) == cal.NAN_PENALTY
    assert d(0.0, 10.0, 20.0, "log") < 20  # a zero stays finite on the log scale


def _view(compounds: np.ndarray, iso3: list[str]) -> cal.RunView:
    t, n = compounds.shape
    z = np.zeros((t, n))
    series = {"compounds": compounds.astype(float), "workers": 100 * compounds.astype(float),
              "revenue_usd": z, "rescued": z, "victim_losses_usd": z}
    return cal.RunView("2023-01", np.array(iso3), np.array(["x"] * n), series,
                       pd.DataFrame(columns=["kind", "step", "from", "size"]), {})


def test_ledger_statistics_rank_not_list():
    iso = ["HUB", "AAA", "BBB", "CCC", "DDD"]
    ledger = pd.DataFrame({"iso3": ["AAA", "BBB", "ZZZ"],
                           "first_documented": ["2023-06", "2023-03", "2023-01"]})
    comp = np.zeros((13, 5), int)
    comp[:, 0] = 3
    comp[4:, 1] = 1  # AAA from month 4: before its date
    comp[10:, 2] = 1  # BBB from month 10: after its date + grace
    comp[12:, 3] = 1  # CCC briefly
    row = {"first": "2023-01", "last": "2023-12"}
    view = _view(comp, iso)
    assert cal.stat_ledger_auc(view, row, ledger) == pytest.approx(1.0)
    assert cal.stat_ledger_by_date(view, row, ledger) == pytest.approx(0.5)
    flat = _view(np.where(np.arange(5) == 0, 3, 0)[None, :].repeat(13, 0), iso)
    assert cal.stat_ledger_auc(flat, row, ledger) == pytest.approx(0.5)  # ties: chance


@pytest.mark.slow
def test_quick_mode_end_to_end(tmp_path):
    assert cal.main(["--quick", "--out", str(tmp_path), "--procs", "2", "--report"]) == 0
    assert (tmp_path / "posterior.csv").exists()
    assert (tmp_path / "calibration_report.html").exists()


def test_posterior_medians_become_the_defaults_in_a_copy_of_params(tmp_path):
    import shutil

    import pandas as pd

    from sim.analysis.calibration import rounded_medians, write_defaults
    from sim.core import params as params_module

    post = pd.DataFrame({"raid_rate": [0.1, 0.123456, 0.5], "pool_share": [1e-4, 2.3456e-4, 5e-4],
                         "weight": [0.2, 0.5, 0.3]})
    # sorted raid_rate 0.1, 0.123456, 0.5 with weights 0.2, 0.5, 0.3: the weighted CDF at
    # their midpoints is 0.1, 0.45, 0.85, so the median lies 0.05 / 0.4 of the way from the
    # second to the third: 0.123456 + 0.125 x 0.376544 = 0.170524; pool_share likewise
    # 2.3456e-4 + 0.125 x 2.6544e-4 = 2.6774e-4
    medians = rounded_medians(post)
    assert medians == {"raid_rate": 0.171, "pool_share": 0.000268}
    copy = tmp_path / "params.py"
    shutil.copy(params_module.__file__, copy)
    changed = write_defaults(medians, copy)
    assert changed["raid_rate"][1] == "0.171"
    ns: dict = {}
    exec(compile(copy.read_text(), str(copy), "exec"), ns)
    new = ns["Params"]()
    assert new.raid_rate == 0.171 and new.pool_share == 0.000268
    assert new.expansion_rate == params_module.Params().expansion_rate  # others untouched


def test_shipped_defaults_are_the_shipped_posterior_medians():
    import dataclasses

    import pandas as pd

    from sim.analysis.calibration import rounded_medians
    from sim.core.params import Params
    from sim.resources import data_path

    path = data_path("posterior.csv")
    if not path.is_file():
        pytest.skip("no posterior shipped yet: the defaults are the hand-set values")
    defaults = dataclasses.asdict(Params())
    medians = rounded_medians(pd.read_csv(path))
    assert {k: defaults[k] for k in medians} == medians


def test_the_fingerprint_ignores_the_calibrated_defaults():
    import dataclasses

    from sim.analysis.calibration import CalibrationSettings, build_problem, fingerprint

    settings = CalibrationSettings.quick()
    problem = build_problem(settings)
    name = problem.priors[0].name
    moved = dataclasses.replace(problem.spec.params, **{name: getattr(problem.spec.params, name)
                                                        * 1.5})
    spec = dataclasses.replace(problem.spec, resolved={
        **problem.spec.resolved, "params": dataclasses.asdict(moved)})
    other = dataclasses.replace(problem, spec=spec)
    assert fingerprint(settings, other) == fingerprint(settings, problem)


def test_screening_ranks_what_the_first_generation_learnt(runs):
    table = cal.screening_table(runs["a"], PRIORS)
    assert set(table["parameter"]) == {p.name for p in PRIORS}
    assert (table["ks_distance"].between(0.0, 1.0)).all()
    assert table["ks_distance"].is_monotonic_decreasing


@given(st.floats(min_value=-1e13, max_value=1e13, allow_nan=False, allow_infinity=False))
@settings(max_examples=300, deadline=None)
def test_defaults_are_written_as_literals_that_read_back_exactly(value):
    literal = cal.float_literal(value)
    assert float(eval(literal)) == value
    assert " " not in literal


def test_defaults_literals_follow_the_style_of_params_hand_checked():
    assert [cal.float_literal(v) for v in (18000.0, 3.79e9, 0.578, 2190.0, 1e-6, 0.0)] == [
        "18_000.0", "3.79e9", "0.578", "2_190.0", "1e-6", "0.0"]


def test_cluster_route_through_a_dask_scheduler(tmp_path):
    # The Dask route end to end: a scheduler and one worker (its own process, as on a
    # cluster node), the calibration sent through its address.
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        settings = toy_settings(procs=1, dask=cluster.scheduler_address)
        result = cal.calibrate(settings, tmp_path, targets=toy_targets(), priors=PRIORS,
                               log=None)
    post = pd.read_csv(tmp_path / "posterior.csv")
    assert len(post) == 8 and math.isclose(post["weight"].sum(), 1.0)
    assert list(result.generations["generation"]) == [0, 1]
    for p in PRIORS:
        assert post[p.name].between(p.low, p.high).all()


def test_the_command_calibrates_the_screened_priors_unless_told():
    assert cal.prior_names(None) == list(cal.SCREENED_PRIOR_NAMES)
    assert cal.prior_names(None, quick=True) == list(cal.QUICK_PRIOR_NAMES)
    assert cal.prior_names("all") is None and len(cal.select_priors(None)) == len(cal.PRIORS)
    assert cal.prior_names("raid_rate, raid_budget") == ["raid_rate", "raid_budget"]
    # the defaults are the shipped calibration's: 10^5 model runs at most
    d = cal.CalibrationSettings()
    assert (d.population, d.seeds, d.max_evaluations * d.seeds) == (1000, 2, 100_000)
    assert set(cal.SCREENED_PRIOR_NAMES) <= {p.name for p in cal.PRIORS}


def test_weighted_quantile_hand_checked():
    from sim.paramsets import weighted_quantile

    # equal weights: the CDF at the midpoints 0.125, 0.375, 0.625, 0.875
    assert weighted_quantile(np.array([4.0, 1.0, 3.0, 2.0]), np.ones(4), 0.5) == 2.5
    assert weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), 0.25) == 1.5
    assert weighted_quantile(np.array([1.0, 2.0, np.nan]), np.ones(3), 0.01) == 1.0
    assert math.isnan(weighted_quantile(np.array([np.nan]), np.ones(1), 0.5))


def test_weight_at_the_prior_ends_hand_checked():
    from sim.analysis.calibration_report import end_weights

    # linear prior [0, 1]: ends are [0, 0.05] and [0.95, 1]; log prior [1, 100]: the
    # ends are [1, 10^0.1] and [10^1.9, 100]
    post = pd.DataFrame({"a": [0.01, 0.5, 0.97, 0.99], "b": [1.1, 50.0, 90.0, 2.0],
                         "weight": [0.1, 0.2, 0.3, 0.4]})
    ends = end_weights(post, {"a": (0.0, 1.0, False), "b": (1.0, 100.0, True)})
    assert ends.loc["a", "low_end"] == pytest.approx(0.1)
    assert ends.loc["a", "high_end"] == pytest.approx(0.7)
    assert ends.loc["b", "low_end"] == pytest.approx(0.1)  # 1.1 < 10^0.1 = 1.26; 2 is not
    assert ends.loc["b", "high_end"] == pytest.approx(0.3)  # 90 > 10^1.9 = 79.4


def test_the_odd_parameter_table_follows_the_written_defaults(tmp_path):
    import re
    import shutil
    from pathlib import Path

    copy = tmp_path / "ODD.md"
    shutil.copy(Path(__file__).parents[1] / "docs" / "ODD.md", copy)
    cal.write_odd_defaults({"raid_budget": 163.0, "political_scale_usd": 2.67e9}, copy)
    rows = dict(re.findall(r"\n\| `(\w+)` \| ([^|]+?) \|", copy.read_text()))
    assert float(rows["raid_budget"]) == 163.0 and float(rows["political_scale_usd"]) == 2.67e9
    assert rows["raid_rate"] == "0.25"  # the others untouched
    with pytest.raises(cal.CalibrationError, match="no parameter row"):
        cal.write_odd_defaults({"not_a_parameter": 1.0}, copy)
