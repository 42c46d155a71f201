"""Step 3, model: token ids in -> class logits (the recurrent classifier and its fast kernels)."""
