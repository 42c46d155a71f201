"""Step 4, training: a ReviewTable and a TrainConfig in -> a trained ModelBundle with metrics."""
