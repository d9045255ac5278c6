"""photoenhance.cli.commands."""
