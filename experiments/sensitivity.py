"""Global sensitivity analysis (Morris, then Sobol); see sim/analysis/sensitivity_study.py.

    python experiments/sensitivity.py [--quick] [--world world] [--jobs -1] [--out DIR]

Same as ``scamsim sensitivity ...``.
"""

import sys

from sim.analysis.sensitivity_study import main

if __name__ == "__main__":
    sys.exit(main())
