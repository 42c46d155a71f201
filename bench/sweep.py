"""Train several configs on one dataset and print validation (and test) accuracy per config.

For choosing defaults: the choice is made on validation accuracy; the test column is printed
for the record only. Configs that share the data settings (tokenizer, vocabulary, length)
share one tokenization. Runs on CUDA when present (a quick way to search), else the CPU.

    python bench/sweep.py --dataset imdb --configs '[{}, {"cell": "gru"}]' [--json out.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see core/__init__.py
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import IMDB, RT, SST2, load, machine  # noqa: E402
from core.config import DATA_KNOBS, TrainConfig  # noqa: E402
from core.training.dataset import prepare_data  # noqa: E402
from core.training.pipeline import train_model  # noqa: E402
from core.training.trainer import TrainCallbacks  # noqa: E402

PATHS = {"imdb": IMDB, "sst2": SST2, "rt": RT}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="imdb", choices=sorted(PATHS))
    parser.add_argument("--configs", required=True, help="JSON list of config overrides")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    print(f"Machine: {machine()}", flush=True)
    table = load(PATHS[args.dataset])
    data_key, data = None, None  # one tokenization in memory at a time
    results = []
    for overrides in json.loads(args.configs):
        if args.dataset == "rt":
            overrides.setdefault("test_share", 0.2)
        config = TrainConfig.from_dict(overrides)
        key = tuple(getattr(config, k) for k in sorted(DATA_KNOBS))
        if key != data_key:
            data_key, data = key, prepare_data(table, config)
        curve: list[float] = []

        def on_epoch(event, curve=curve):
            curve.append(round(event.val_accuracy, 4))

        began = time.perf_counter()
        outcome = train_model(data, config, TrainCallbacks(on_epoch=on_epoch))
        seconds = time.perf_counter() - began
        metrics = outcome.bundle.metrics
        row = {"overrides": overrides, "val": metrics["validation"]["accuracy"],
               "test": metrics.get("test", {}).get("accuracy"), "best_epoch":
               outcome.result.best_epoch, "val_curve": curve, "seconds": round(seconds, 1),
               "tokens_per_second": round(outcome.result.tokens_per_second),
               "parameters": outcome.bundle.info["parameters"], "device": outcome.result.device}
        results.append(row)
        print(json.dumps(row), flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
