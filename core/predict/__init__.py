"""Step 5, prediction: a ModelBundle and texts in -> class probabilities, for one text or many."""
