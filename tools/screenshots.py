"""Screenshots of every tab of the real window in a real state, for the README and reviews.

First every tab as a newcomer finds it (``empty-<tab>.png``), then: trains on the sample
reviews with the Train tab's defaults, explains a negated review, runs a small comparison and
a batch analysis, and saves one PNG per tab. Last, the Data tab with unlabelled reviews
(``data_unlabelled.png``: a copy of the sample with some labels blanked, one added unlabelled
file, pretraining on). Run it on a screen or under Xvfb:

    xvfb-run -a -s "-screen 0 1280x800x24" python tools/screenshots.py [--out docs/screenshots]

``--only data_unlabelled`` takes that last shot alone (no training run).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

NEGATED = "Our service maid paid no attention to cleaning, and the room was not clean at all."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--epochs", type=int, default=0,
                        help="epochs of the sample run (0: the Train tab's defaults)")
    parser.add_argument("--only", choices=["data_unlabelled"],
                        help="take this shot alone")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv)
    from core.config import TrainConfig
    from gui.app import configure_application, warm_up_engine
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    configure_application(app)
    warm_up_engine()
    settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(settings))
    window.move(0, 0)
    window.resize(1280, 800)
    window.show()

    def wait(signal, seconds: int = 900) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(seconds * 1000, loop.quit)
        loop.exec()

    def pause(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(name: str) -> None:
        pause(500)
        path = args.out / f"{name}.png"
        window.grab().save(str(path))
        print(f"saved {path}")

    def data_unlabelled() -> None:
        """The sample with its last 300 labels blanked, plus an unlabelled file, pretraining
        on (both written to a temporary folder; no review enters the repository)."""
        from core.io.readers import read_reviews

        folder = Path(tempfile.mkdtemp())
        sample = read_reviews(ROOT / "resources" / "sample_reviews.csv")
        labelled = folder / "hotel_and_app_reviews.csv"
        with open(labelled, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["review", "stars"])
            for index, (text, label) in enumerate(zip(sample.texts, sample.labels or [])):
                writer.writerow([text, label if index < 900 else ""])
        extra = folder / "reviews_without_stars.csv"
        with open(extra, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["review"])
            writer.writerows([text] for text in sample.texts[:400])
        window.tabs.setCurrentWidget(window.data_panel)
        window.data_panel.open_path(str(labelled))
        wait(window.data_panel.table_ready)
        train = window.train_panel
        train.pretrain.setCurrentIndex(train.pretrain.findData("lm"))
        train.add_unlabelled_paths([str(extra)])
        while train.unlabelled_state().reading:
            pause(100)
        shot("data_unlabelled")

    pause(1500)
    if args.only == "data_unlabelled":
        data_unlabelled()
        window.close()
        app.quit()
        return
    for index in range(window.tabs.count()):  # the empty states, disabled tabs included
        enabled = window.tabs.isTabEnabled(index)
        window.tabs.setTabEnabled(index, True)
        window.tabs.setCurrentIndex(index)
        shot(f"empty-{window.tabs.tabText(index).lower()}")
        window.tabs.setTabEnabled(index, enabled)
    window.tabs.setCurrentIndex(0)

    window.data_panel.open_path(str(ROOT / "resources" / "sample_reviews.csv"))
    wait(window.data_panel.table_ready)
    shot("data")

    window.tabs.setCurrentWidget(window.train_panel)
    if args.epochs:  # 0: the Train tab's defaults, as a newcomer's first run
        window.train_panel.set_config(TrainConfig(epochs=args.epochs, threads=1))
    window.train_panel.start_training()
    wait(window.train_panel.run_ended)
    shot("train")

    window.tabs.setCurrentIndex(2)
    shot("results")

    explain = window.panel("Explain")
    if explain is not None:
        window.tabs.setCurrentWidget(explain)
        explain.explain_text(NEGATED)
        wait(explain.explained, 120)
        shot("explain")

    compare = window.panel("Compare")
    if compare is not None:
        window.tabs.setCurrentWidget(compare)
        compare.start_comparison()
        wait(compare.comparison_finished)
        shot("compare")

    batch = window.panel("Batch")
    if batch is not None:
        window.tabs.setCurrentWidget(batch)
        batch.add_inputs([ROOT / "resources" / "sample_reviews.csv"])
        batch.set_output(Path(tempfile.mkdtemp()) / "labelled.csv")
        batch.start()
        wait(batch.analysis_finished)
        shot("batch")

    data_unlabelled()
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
