"""Step 1, reading: review files and folders in -> a ReviewTable (texts, raw labels, rows)."""
