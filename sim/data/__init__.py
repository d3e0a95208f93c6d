"""Curated input data for scamsim (the world table) and the script that builds it."""
