"""photoenhance.cli."""
