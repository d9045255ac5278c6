"""Offline tools: training data, training, labelling and evaluation helpers for the models.

The app (``photoenhance.core``, ``.cli``, ``.gui``) never imports this package
(``tests/core/test_layers.py`` enforces it); this package imports the app's core freely.
``python -m photoenhance.train enhancer|data|blurcal|pack|unpack`` for the enhancer;
``python -m photoenhance.train.rank.labels|train|choose_q`` for the ranker;
``python -m photoenhance.train.tone`` for the tone model."""

from pathlib import Path

#: the source checkout: training data goes to ``REPO / "data"``, checkpoints to
#: ``REPO / "checkpoints"`` (both ignored by git)
REPO = Path(__file__).resolve().parents[2]
