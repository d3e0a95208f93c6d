"""Bayesian calibration (ABC-SMC with pyabc) against the record; see sim/analysis/calibration.py.

    python experiments/calibrate.py --quick                # teaching world, a few minutes
    python experiments/calibrate.py [--procs N] [--out DIR] [--install] [--report]

Same as ``scamsim calibrate ...``. Needs the ``calibrate`` extra (pyabc).
"""

import sys

from sim.analysis.calibration import main

if __name__ == "__main__":
    sys.exit(main())
