"""photoenhance.core.jobs."""
