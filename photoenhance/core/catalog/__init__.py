"""photoenhance.core.catalog."""
