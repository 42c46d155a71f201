"""Review Analyzer engine: files, tokens, models, training, explanations. Never imports Qt."""

import os

# OpenMP threads that spin while waiting make torch 20-50x slower as soon as another busy
# process shares the cores (measured: 183 vs 5,107 tokens/s training on the sample set with
# two threads beside other work). Sleeping waits cost nothing measurable on an idle machine.
# Only effective if set before torch loads, hence here and at the top of main.py.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
