"""photoenhance.core.ml."""
