"""Review Analyzer engine: files, tokens, models, training, explanations. Never imports Qt."""
