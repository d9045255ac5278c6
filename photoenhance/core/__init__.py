"""photoenhance.core."""
