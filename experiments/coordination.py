"""Study 'coordination' (see sim/studies.py).

    python experiments/coordination.py [--quick] [--world world] [--replicates 20] [--jobs N]
"""

from sim.analysis.studies import main

if __name__ == "__main__":
    main("coordination")
