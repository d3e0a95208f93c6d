"""Refresh the README gallery (docs/img/) from the studies' figures.

    python experiments/run_all.py      # first: the studies write results/<study>/
    python experiments/gallery.py      # then: small copies into docs/img/

Figures are shrunk to at most 1000 px wide so the repository stays small.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from sim.results import atomic_write_bytes

ROOT = Path(__file__).parents[1]
GALLERY = {
    "displacement/hubs_vs_rest.png": "study_displacement_hubs_vs_rest.png",
    "displacement/new_hosts_map.png": "study_displacement_new_hosts_map.png",
    "coordination/forest.png": "study_coordination_forest.png",
    "whack_a_mole/maps_over_time.png": "study_whack_a_mole_maps.png",
    "whack_a_mole/flows.png": "study_whack_a_mole_flows.png",
    "financial_squeeze/world_total.png": "study_financial_squeeze_world_total.png",
    "sensitivity/sobol.png": "study_sensitivity_sobol.png",
}
MAX_WIDTH = 1000


def shrink(src: Path, dst: Path) -> None:
    """Write a copy of ``src`` at most MAX_WIDTH pixels wide, as an optimised PNG."""
    with Image.open(src) as im:
        im = im.convert("RGB")
        if im.width > MAX_WIDTH:
            im = im.resize((MAX_WIDTH, round(im.height * MAX_WIDTH / im.width)),
                           Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(dst, buf.getvalue())


def main() -> None:
    """Copy every gallery figure that exists; say which are missing."""
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    for rel, name in GALLERY.items():
        src = ROOT / "results" / rel
        if not src.exists():
            print(f"missing {src} (run experiments/run_all.py first)")
            continue
        shrink(src, out / name)
        print(f"{out / name} ({(out / name).stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
