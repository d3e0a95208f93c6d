"""Study 'financial_squeeze' (see sim/studies.py).

    python experiments/financial_squeeze.py [--quick] [--world world] [--replicates 20] [--jobs N]
"""

from sim.analysis.studies import main

if __name__ == "__main__":
    main("financial_squeeze")
