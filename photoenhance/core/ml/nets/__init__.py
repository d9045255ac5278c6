"""photoenhance.core.ml.nets."""
