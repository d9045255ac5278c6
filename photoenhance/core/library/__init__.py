"""photoenhance.core.library."""
