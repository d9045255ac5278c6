"""Offline training code (data synthesis, trainers). The app never imports this package."""
