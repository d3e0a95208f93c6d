"""``python -m sim`` runs the ``scamsim`` command."""

from sim.cli import main

if __name__ == "__main__":
    main()
