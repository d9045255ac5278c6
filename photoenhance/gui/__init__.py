"""photoenhance.gui."""
