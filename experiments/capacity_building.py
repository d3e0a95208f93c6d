"""Study 'capacity_building' (see sim/studies.py).

    python experiments/capacity_building.py [--quick] [--world world] [--replicates 20] [--jobs N]
"""

from sim.analysis.studies import main

if __name__ == "__main__":
    main("capacity_building")
