"""The README's scenario table (see sim/analysis/scenario_table.py); same as ``scamsim table``.

    python experiments/scenario_table.py [--seeds 20] [--world world]
"""

import sys

from sim.analysis.scenario_table import main

if __name__ == "__main__":
    sys.exit(main())
