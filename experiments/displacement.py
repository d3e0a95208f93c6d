"""Study 'displacement' (see sim/studies.py).

    python experiments/displacement.py [--quick] [--world world] [--replicates 20] [--jobs N]
"""

from sim.analysis.studies import main

if __name__ == "__main__":
    main("displacement")
