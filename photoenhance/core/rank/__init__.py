"""photoenhance.core.rank."""
