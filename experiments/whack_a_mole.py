"""Study 'whack_a_mole' (see sim/studies.py).

    python experiments/whack_a_mole.py [--quick] [--world world] [--replicates 20] [--jobs N]
"""

from sim.analysis.studies import main

if __name__ == "__main__":
    main("whack_a_mole")
