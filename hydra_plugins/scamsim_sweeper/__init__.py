"""Hydra sweeper plugin of scamsim (``hydra/sweeper=scamsim``)."""
