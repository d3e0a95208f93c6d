"""The World: distances, groups, selectors, the teaching subset, victim targeting."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim.config import load_group
from sim.core.errors import ConfigError
from sim.core.world import World, great_circle_km


def test_great_circle_hand_computed():
    d = great_circle_km(np.array([0.0, 0.0, 90.0]), np.array([0.0, 90.0, 0.0]))
    quarter = np.pi * 6371.0088 / 2  # a quarter of a great circle: 10,007.6 km
    assert d[0, 1] == pytest.approx(quarter)
    assert d[0, 2] == pytest.approx(quarter)
    assert d[1, 2] == pytest.approx(quarter)


@pytest.fixture(scope="module")
def world():
    return World.from_config(load_group("world", "world"))


def test_distances_symmetric_and_plausible(world):
    d = world.distance_km
    assert d.shape == (world.n, world.n)
    assert np.array_equal(d, d.T)
    assert (np.diag(d) == 0).all()
    assert (d[~np.eye(world.n, dtype=bool)] > 0).all()
    assert d.max() <= np.pi * 6371.0088 + 1e-6
    i, j = world.index["MMR"], world.index["THA"]
    assert 300 < d[i, j] < 1500  # neighbours
    assert d[world.index["MMR"], world.index["BRA"]] > 15_000


def test_teaching_world_is_a_small_subset():
    w = World.from_config(load_group("world", "teaching"))
    assert 10 <= w.n <= 15
    assert set(w.initial_presence) <= set(w.iso3)
    assert len(set(w.region)) >= 7


def test_victim_shares_are_stochastic_and_favour_near_rich_markets(world):
    v = world.victim_shares(3000.0)
    assert v.sum(axis=1) == pytest.approx(np.ones(world.n))
    mmr = world.index["MMR"]
    # Victims of Myanmar's compounds: China above Brazil despite similar distance scales.
    assert v[mmr, world.index["CHN"]] > v[mmr, world.index["BRA"]]


def test_groups_and_selectors(world):
    hubs = world.iso3[world.resolve(["hubs"])]
    assert set(hubs) == {"MMR", "KHM", "LAO", "PHL"}
    asean = world.resolve(["asean"])
    assert len(asean) == 10
    africa = world.resolve(["region:Africa"])
    assert len(africa) > 40 and set(world.region[africa]) == {"Africa"}
    assert len(world.resolve(["all"])) == world.n
    with pytest.raises(ConfigError, match="unknown jurisdiction or group"):
        world.resolve(["Atlantis"])
    with pytest.raises(ConfigError, match="unknown region"):
        world.resolve(["region:Atlantis"])


def test_graph_has_integer_nodes_with_iso3(world):
    g = world.graph()
    assert sorted(g.nodes) == list(range(world.n))
    assert g.nodes[world.index["MMR"]]["iso3"] == "MMR"
    assert min(dict(g.degree).values()) >= 3


def test_worlds_of_the_same_jurisdictions_share_their_structures_read_only():
    """The graph and the victim shares are computed once per process for the same
    jurisdictions (and scale): another world of them gets the same objects, a smaller
    world its own; the shared arrays cannot be written, nor the graph edited."""
    a = World.from_config(load_group("world", "teaching"))
    b = World.from_config(load_group("world", "teaching"))
    full = World.from_config(load_group("world", "world"))
    assert a.graph() is b.graph() and a.graph() is not full.graph()
    assert full.graph().number_of_nodes() == full.n and a.graph().number_of_nodes() == a.n
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        a.graph().add_edge(0, a.n - 1)  # an edit would change every model's network
    v = a.victim_shares(3000.0)
    assert v is b.victim_shares(3000.0) and v is not a.victim_shares(2000.0)
    expected = a.gdp[None, :] * np.exp(-a.distance_km / 3000.0)
    np.testing.assert_allclose(v, expected / expected.sum(axis=1, keepdims=True), rtol=1e-15)
    with pytest.raises(ValueError, match="read-only"):
        v[0, 0] = 1.0


def test_bad_world_configs_are_refused():
    spec = load_group("world", "teaching")
    with pytest.raises(ConfigError, match=r"world\.jurisdictions"):
        World.from_config({**spec, "jurisdictions": ["MMR", "XXX"]})
    with pytest.raises(ConfigError, match=r"world\.initial_presence"):
        World.from_config({**spec, "initial_presence": {"USA": 0}})
