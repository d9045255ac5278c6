"""photoenhance.core.ml.train."""
