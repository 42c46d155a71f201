"""Step 2, text: review texts and raw labels in -> tokens, token ids and class ids (no torch)."""
