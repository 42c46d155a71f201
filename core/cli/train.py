"""``train``, ``evaluate`` and ``predict``: a model from a review file, scored, and applied."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import signal
import sys
from pathlib import Path

from core.bundle import ModelBundle, resolve_model_path
from core.cli.progress import ProgressBar
from core.cli.reading import SKIPPED_NAME, add_read_limit_option, read_table, report_read
from core.config import (
    CELLS,
    NEGATION_PAIR_MODES,
    POOLINGS,
    TOKENIZERS,
    TRUNCATIONS,
    WORD_PRIOR_MODES,
    TrainConfig,
)
from core.errors import ReviewDataError
from core.io.output_paths import check_outputs, save_with_fallback
from core.io.readers import read_reviews
from core.metrics import format_duration, format_metrics
from core.predict.predictor import Predictor
from core.text.labels import make_scheme
from core.training.checkpoint import PretrainedCheckpoint
from core.training.pipeline import evaluate_bundle, run_training
from core.training.pretraining import PretrainCallbacks, PretrainProgress
from core.training.trainer import BatchProgress, EpochSummary, TrainCallbacks, TrainControl
from core.training.unlabelled import read_unlabelled_rows

_DEFAULTS = TrainConfig()


def add_column_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-col", help="column with the review text (guessed if omitted)")
    parser.add_argument("--label-col", help="column with the label or rating (guessed)")
    parser.add_argument("--split-col", help="column naming train/test rows (guessed)")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, defaults from the dataclass (they live there once)."""
    group = parser.add_argument_group("model and training settings")
    choices = {"cell": CELLS, "pooling": POOLINGS, "truncation": TRUNCATIONS,
               "tokenizer": TOKENIZERS, "device": ("auto", "cpu", "cuda"),
               "word_prior": WORD_PRIOR_MODES, "negation_pairs": NEGATION_PAIR_MODES}
    for field in dataclasses.fields(TrainConfig):
        default = getattr(_DEFAULTS, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(default, bool):
            group.add_argument(flag, dest=field.name, default=None,
                               action=argparse.BooleanOptionalAction,
                               help=f"(default: {'on' if default else 'off'})")
        else:
            group.add_argument(flag, dest=field.name, type=type(default), default=None,
                               choices=choices.get(field.name), metavar=None if
                               field.name in choices else field.name.upper(),
                               help=f"(default: {default})")
    group.add_argument("--hidden", dest="hidden_size", type=int, default=None,
                       help="alias of --hidden-size")
    group.add_argument("--config", type=Path, help="a JSON file of settings (flags win)")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values: dict = {}
    if getattr(args, "config", None):
        try:
            values.update(json.loads(Path(args.config).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as error:
            raise ReviewDataError(f"Cannot read the settings ({error}).",
                                  path=str(args.config)) from None
    for field in dataclasses.fields(TrainConfig):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = value
    return TrainConfig.from_dict(values)


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train", help="train a model on a labelled review file",
        description="Train a recurrent sentiment model on a labelled review file or folder.")
    train.add_argument("file", help="CSV, TSV, JSON, JSONL, Parquet, or a folder of .txt files")
    add_column_options(train)
    train.add_argument("--scheme", default="auto",
                       choices=["auto", "categorical", "binary", "three", "five"],
                       help="how labels become classes; ratings default to binary")
    train.add_argument("--cuts", help="rating cut points, e.g. '2,4' (binary/three) or "
                                      "'1,2,3,4' (five)")
    train.add_argument("--max-rows", type=int, help="read only the first N reviews")
    add_config_options(train)
    add_read_limit_option(train)
    train.add_argument("--unlabelled", nargs="+", default=[], metavar="FILE",
                       help="review files to pretrain on besides the training rows and the "
                            "file's unlabelled rows (labels ignored; see --pretrain)")
    train.add_argument("--init", type=Path, metavar="CHECKPOINT",
                       help="start from a checkpoint written by 'pretrain' instead of "
                            "pretraining again")
    train.add_argument("--out", type=Path, required=True,
                       help="folder (or .ramodel file) to write the model to")
    train.set_defaults(handler=cmd_train)

    evaluate = subparsers.add_parser("evaluate", help="score a saved model on a labelled file")
    evaluate.add_argument("model", help="model folder or .ramodel file")
    evaluate.add_argument("file", help="labelled review file")
    add_column_options(evaluate)
    add_read_limit_option(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.add_argument("--all-rows", action="store_true",
                          help="score every row, also those a split column marks as training rows")
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = subparsers.add_parser("predict", help="classify one or more texts")
    predict.add_argument("model", help="model folder or .ramodel file")
    predict.add_argument("text", nargs="+",
                         help="review text(s) to classify; '-' reads one from standard input")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.set_defaults(handler=cmd_predict)


def parse_cuts(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise ReviewDataError(f"Cut points must be numbers separated by commas, not '{text}'.") \
            from None


REPORT_NAMES = ("metrics.json", "history.csv", SKIPPED_NAME)


def model_outputs(out: Path) -> tuple[Path, list[Path]]:
    """The model file ``--out`` names and every file training writes beside it."""
    target = resolve_model_path(out, for_writing=True)
    return target, [target, *(target.parent / name for name in REPORT_NAMES)]


def cmd_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    target, written = model_outputs(args.out)
    check_outputs(written, [args.file], "model")  # before hours of training, not after
    table = read_table(args.file, args, args.max_rows, args.split_col)
    if table.labels is None:
        raise ReviewDataError("No label column found; name one with --label-col.",
                              path=str(args.file))
    scheme = make_scheme(args.scheme, table.labels, parse_cuts(args.cuts))
    report_read(table, args.file, target.parent)
    print(f"Classes: {scheme.describe()}")
    bar = ProgressBar()
    control = TrainControl()

    def on_batch(event: BatchProgress) -> None:
        bar.update(event.fraction, f"epoch {event.epoch}/{event.epochs} batch {event.batch}/"
                   f"{event.batches} loss {event.loss:.3f} {event.tokens_per_second:,.0f} tok/s "
                   f"ETA {format_duration(event.eta)}")

    def on_epoch(event: EpochSummary) -> None:
        bar.update(event.epoch / config.epochs, force=True)
        bar.close()
        print(f"epoch {event.epoch}: train loss {event.train_loss:.4f} acc "
              f"{event.train_accuracy:.4f} | val loss {event.val_loss:.4f} acc "
              f"{event.val_accuracy:.4f} F1 {event.val_macro_f1:.4f} | {event.seconds:.1f}s"
              f"{'  *best' if event.is_best else ''}")

    init = PretrainedCheckpoint.load(args.init) if args.init else None
    unlabelled = []
    if init is None and (config.pretrain != "off" or config.adversarial == "vat"):
        spare = read_unlabelled_rows(args.file, table.text_column, table.label_column,
                                     split_column=args.split_col)
        unlabelled = ([spare] if len(spare) else []) + [
            read_reviews(path, label_column="") for path in args.unlabelled]
    elif args.unlabelled:
        print("Note: --unlabelled is used for pretraining (--pretrain) and virtual adversarial "
              "training only; with --init the checkpoint's pretraining stands.")

    previous = signal.signal(signal.SIGINT, lambda *_: control.cancel())
    try:
        outcome = run_training(table, config, scheme,
                               TrainCallbacks(on_batch, on_epoch, lambda m: print(m)), control,
                               unlabelled, init, pretrain_printer(bar, "pretraining epoch"))
    finally:
        signal.signal(signal.SIGINT, previous)
    bundle = outcome.bundle

    def save(path: Path) -> Path:
        saved = bundle.save(path)
        write_reports(bundle, saved.parent)
        return saved

    target, rescued = save_with_fallback(save, target, "model")
    result = outcome.result
    print(f"Stopped: {result.stop_reason} (best epoch {result.best_epoch}) after "
          f"{format_duration(result.seconds)}, {result.tokens_per_second:,.0f} tokens/s")
    if result.message:
        print(result.message)
    if "test" in bundle.metrics:
        print(f"\nTest ({bundle.info['test_source']}):")
        print(format_metrics(bundle.metrics["test"]))
    if rescued:
        print(f"\nwarning: {rescued}", file=sys.stderr)
        return 1
    print(f"\nSaved model to {target}")
    return 0


def write_reports(bundle: ModelBundle, folder: Path) -> None:
    """Human-readable copies beside the model: metrics.json and history.csv."""
    (folder / "metrics.json").write_text(json.dumps(bundle.metrics, indent=2), encoding="utf-8")
    if bundle.history:
        with open(folder / "history.csv", "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(bundle.history[0]))
            writer.writeheader()
            writer.writerows(bundle.history)


TRAINING_SHARE_WARNING = 0.1  # warn when about this share of scored reviews were trained on


def cmd_evaluate(args: argparse.Namespace) -> int:
    bundle = ModelBundle.load(args.model)
    table = read_table(args.file, args, split_column=args.split_col)
    if table.skipped or table.fault:
        report_read(table, args.file, stream=sys.stderr)  # stdout may be --json
    metrics = evaluate_bundle(bundle, table, all_rows=args.all_rows)
    share = metrics.get("training_share")
    if share is not None and share >= TRAINING_SHARE_WARNING:
        print(f"warning: about {share:.0%} of the scored reviews are ones this model was "
              "trained on, so the figures overstate how it does on new reviews; score it on "
              "reviews it has not seen (a file with a test split, or a new file).",
              file=sys.stderr)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(f"Scored {metrics['scored']}.")
        print(format_metrics(metrics))
        if metrics.get("left_out"):
            print(f"\n{metrics['left_out']} reviews had labels outside the model's classes.")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    texts = [sys.stdin.read() if text == "-" else text for text in args.text]
    if any(not text.strip() for text in texts):
        raise ReviewDataError("A review is empty: pass the text to classify, or '-' to read it "
                              "from standard input.")  # as explain says: no guess on nothing
    args.text = texts
    bundle = ModelBundle.load(args.model)
    predictions = Predictor(bundle).predict(args.text)
    if args.json:
        print(json.dumps([{"text": t, "label": p.label, "probabilities": p.probabilities}
                          for t, p in zip(args.text, predictions)], indent=2))
        return 0
    for text, prediction in zip(args.text, predictions):
        probabilities = "  ".join(f"{name} {value:.3f}" for name, value in
                                  prediction.probabilities.items())
        short = text if len(text) <= 70 else text[:67] + "..."
        print(f"{prediction.label:<12} {probabilities}   {short}")
    return 0


def pretrain_printer(bar: ProgressBar, name: str = "epoch") -> PretrainCallbacks:
    """Pretraining progress on the bar, one line a finished epoch (train and pretrain share it)."""

    def on_batch(event: PretrainProgress) -> None:
        bar.update(event.fraction, f"{name} {event.epoch}/{event.epochs} loss {event.loss:.3f} "
                   f"(perplexity {event.perplexity:,.0f}) {event.tokens_per_second:,.0f} tok/s "
                   f"ETA {format_duration(event.eta)}")

    def on_epoch(epoch: int, loss: float) -> None:
        bar.close()
        print(f"{name} {epoch}: language-model loss {loss:.4f}")

    return PretrainCallbacks(on_batch, on_epoch, print)
