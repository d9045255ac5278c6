"""The training tests run tiny random-weight nets with torch on one thread, so they stay quick
on small machines. ``rank_helpers`` (generated images, a tiny ranker) is shared with tests/rank."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rank"))
torch.set_num_threads(1)
