"""``pretrain``: learn from unlabelled reviews once, into a checkpoint that ``train --init`` reuses.

With a labelled file, the texts are those ``train`` would train on with the same settings
(its training rows, never its validation or test rows), plus the file's rows that have no
label and any ``--unlabelled`` files; a file without labels gives all its rows.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from core.cli.progress import ProgressBar
from core.cli.train import (
    add_column_options,
    add_config_options,
    config_from_args,
    pretrain_printer,
)
from core.config import PRETRAIN_KINDS
from core.io.output_paths import check_outputs, save_with_fallback
from core.io.readers import read_reviews
from core.metrics import format_duration
from core.text.tokenizer import Tokenizer
from core.training.checkpoint import SUFFIX
from core.training.dataset import prepare_data, tokenizer_settings
from core.training.trainer import TrainControl
from core.training.unlabelled import (
    PretrainingTexts,
    build_checkpoint,
    gather_texts,
    read_unlabelled_rows,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pretrain", help="learn word vectors or a language model from reviews, for train --init",
        description="Pretrain on review texts (no labels needed) and write a checkpoint that "
                    "'train --init' starts from. The test rows of a labelled file are never read.")
    parser.add_argument("file", help="review file or folder (labelled or not)")
    add_column_options(parser)
    parser.add_argument("--unlabelled", nargs="+", default=[], metavar="FILE",
                        help="more review files whose texts are learnt from (labels ignored)")
    parser.add_argument("--what", choices=[k for k in PRETRAIN_KINDS if k != "off"],
                        default="lm", help="word vectors, or the recurrent encoder as a "
                                           "language model (default: lm)")
    add_config_options(parser)
    parser.add_argument("--out", type=Path, required=True,
                        help=f"checkpoint file to write ({SUFFIX})")
    parser.set_defaults(handler=cmd_pretrain)


def read_unlabelled_files(paths: list[str], text_column: str | None = None) -> list:
    """Each file's texts, labels ignored."""
    return [read_reviews(path, text_column=text_column, label_column="") for path in paths]


def cmd_pretrain(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    config = config.replace(pretrain=args.what)
    target = args.out if args.out.suffix else args.out.with_suffix(SUFFIX)
    check_outputs([target], [args.file, *args.unlabelled], "checkpoint")  # before the work
    table = read_reviews(args.file, text_column=args.text_col, label_column=args.label_col,
                         split_column=args.split_col)
    extra = read_unlabelled_files(args.unlabelled)
    if table.labels is not None:
        data = prepare_data(table, config)
        spare = read_unlabelled_rows(args.file, table.text_column, table.label_column,
                                     split_column=args.split_col)
        texts = gather_texts(data, ([spare] if len(spare) else []) + extra)
    else:
        tokenizer = Tokenizer(tokenizer_settings(config))
        texts = PretrainingTexts()
        for source in [table, *extra]:
            texts.add(Path(source.path).name, "unlabelled file",
                      [tokenizer.tokenize(text) for text in source.texts])
    for source in texts.sources:
        print(f"{source['name']}: {source['rows']:,} {source['role']}")
    bar = ProgressBar()
    control = TrainControl()

    previous = signal.signal(signal.SIGINT, lambda *_: control.cancel())
    try:
        checkpoint = build_checkpoint(texts, config, callbacks=pretrain_printer(bar),
                                      control=control)
    finally:
        signal.signal(signal.SIGINT, previous)
    target, rescued = save_with_fallback(checkpoint.save, target, "checkpoint")
    if rescued:
        print(f"warning: {rescued}", file=sys.stderr)
        return 1
    record = checkpoint.record
    print(f"{'Stopped early; saved' if not record.completed else 'Saved'} {target} "
          f"({record.describe()}; {format_duration(record.seconds)})")
    return 0
