"""photoenhance.core.imaging."""
