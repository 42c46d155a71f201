"""``explain``: which words pushed a saved model toward which class, for one review."""

from __future__ import annotations

import argparse
import json
import math
import sys

from core.bundle import ModelBundle
from core.errors import ReviewDataError
from core.explain import METHODS, UNITS, Explainer, Explanation

_BAR_WIDTH = 20

GAP_WARNING = 0.01  # the completeness gap the engine aims for; beyond it, say so


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain", help="show each word's contribution to a prediction",
        description="Explain one review: each word's push toward (+) or away from (-) a class, "
                    "the probabilities after each word, and how faithful the explanation is.")
    parser.add_argument("model", help="model folder or .ramodel file")
    parser.add_argument("text", help="the review text ('-' reads it from standard input)")
    parser.add_argument("--method", choices=list(METHODS), default="ig",
                        help="ig: integrated gradients (default); occlusion: replace each word "
                             "by <unk>; grad_input: gradient x input (fastest, rough)")
    parser.add_argument("--target", help="class to explain, by name or number (default: the "
                                         "predicted class)")
    parser.add_argument("--steps", type=int, default=50,
                        help="integrated-gradients steps of the plain rule (default 50); where "
                             "it misses a 1%% completeness gap the path is refined adaptively")
    parser.add_argument("--top", type=int, default=0,
                        help="list only the N strongest words each way instead of every word")
    parser.add_argument("--json", action="store_true",
                        help="print the full explanation as JSON (with a 'phrases' list: "
                             "words, character span, score toward the class, interaction)")
    parser.set_defaults(handler=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise ReviewDataError("The review is empty: pass the text to explain, or '-' to read it "
                              "from standard input.")
    bundle = ModelBundle.load(args.model)
    explanation = Explainer(bundle).explain(text, args.method, args.target, steps=args.steps)
    if args.json:
        print(json.dumps(explanation.to_dict(), indent=2))
    else:
        print(render(explanation, args.top))
    return 0


def render(explanation: Explanation, top: int = 0) -> str:
    """Plain-text report: prediction, words with scores and bars, faithfulness."""
    e = explanation
    probabilities = "  ".join(f"{name} {p:.3f}" for name, p in zip(e.classes, e.probabilities))
    lines = [f"Predicted: {e.predicted_name}   ({probabilities})",
             f"Explaining: {e.target_name} with {METHODS[e.method]} "
             f"(scores in {UNITS[e.method]}; + pushes toward {e.target_name}, - away)"]
    if e.truncated:
        lines.append(f"The model read {e.tokens_read} of {e.tokens_total} tokens (its length "
                     "limit); words it did not read are marked 'not read'.")
    lines.append("")
    scale = max((abs(w.score) for w in e.words if w.score is not None), default=0.0) or 1.0
    if top > 0:
        picked = e.ranked(True, top) + e.ranked(False, top)
        lines.append(f"Strongest {top} words each way:")
    else:
        picked = list(range(len(e.words)))
    width = min(24, max((len(e.words[i].word) for i in picked), default=4))
    for index in picked:
        word = e.words[index]
        label = word.word if len(word.word) <= width else word.word[:width - 1] + "\u2026"
        if word.score is None:
            lines.append(f"{index + 1:>5}  {label:<{width}}  {'not read':>9}")
            continue
        length = int(round(abs(word.score) / scale * _BAR_WIDTH))
        bar = ("+" if word.score > 0 else "-") * length
        lines.append(f"{index + 1:>5}  {label:<{width}}  {word.score:>+9.4f}  {bar}")
    lines.append("")
    lines.extend(phrase_lines(e))
    lines.extend(summary_lines(e))
    return "\n".join(lines)


def phrase_lines(e: Explanation) -> list[str]:
    """The phrase layer: words that act as one unit, with what they do together."""
    if not e.phrases:
        return []
    lines = [f"Phrases (contextual decomposition, log-odds toward {e.target_name}; "
             "interaction = the phrase minus its words alone):"]
    for phrase in sorted(e.phrases, key=lambda p: -abs(p.score)):
        lines.append(f"  {' '.join(phrase.words)!r:<32} {phrase.score:>+8.3f}   "
                     f"interaction {phrase.interaction:+.3f}")
    if e.flip:
        lines.append(f"  {e.flip[0].upper()}{e.flip[1:]}.")
    lines.append("")
    return lines


def summary_lines(e: Explanation) -> list[str]:
    lines = []
    if e.comprehensiveness is not None and e.sufficiency is not None:
        words = ", ".join(repr(e.words[i].word) for i in e.top_words[:5])
        about = e.classes[e.faithfulness_class if e.faithfulness_class is not None
                          else e.target_class]
        lines.append(
            f"Faithfulness for {about} (top {e.top_k} word{'s' if e.top_k != 1 else ''}: "
            f"{words}): "
            f"comprehensiveness {e.comprehensiveness:+.3f} (random words: "
            f"{e.random_comprehensiveness:+.3f}), sufficiency {e.sufficiency:+.3f}")
    gap = e.relative_completeness_gap
    if gap is not None and e.baseline_probability is not None:
        lines.append(f"Completeness: scores add up to P({e.target_name}) "
                     f"{e.probabilities[e.target_class]:.3f} - {e.baseline_probability:.3f} "
                     f"(blank review) within {gap:.2%} ({e.steps} gradient evaluations"
                     f"{f' over {e.path_pieces} path pieces' if (e.path_pieces or 1) > 1 else ''})")
        if gap > GAP_WARNING:
            lines.append(f"Warning: the word scores miss that change by {gap:.1%}, more than "
                         f"{GAP_WARNING:.0%}; read them as approximate (a shorter text or "
                         "--method occlusion gives exact per-word effects).")
    lines.append(f"Took {_seconds(e.seconds)}")
    return lines


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 or math.isnan(value) else f"{value:.1f} s"
