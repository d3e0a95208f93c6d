"""Every canonical study and the sensitivity analysis, gathered in results/report.html.

    python experiments/run_all.py [--quick] [--posterior] [--jobs N] [--skip-sensitivity]
"""

from sim.analysis.studies import run_all

if __name__ == "__main__":
    run_all()
