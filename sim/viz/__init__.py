"""Figures: one style, run and sweep figures, study figures and world maps (matplotlib)."""
