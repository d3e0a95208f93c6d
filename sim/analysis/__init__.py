"""Analysis: sweeps and aggregates, sensitivity, EMA Workbench, studies and reports."""
