"""Root conftest: make the repo importable and keep Qt and matplotlib off any screen or home."""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see core/__init__.py
os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="mpl-"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
