"""Step 6, analysis: a ModelBundle and whole files in -> prediction files and a corpus summary."""
