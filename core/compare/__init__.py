"""Step 7, comparison: one split and several configs in -> one table of runs beside baselines."""
