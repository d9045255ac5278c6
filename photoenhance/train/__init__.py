"""Offline training code (degradation models, data, trainers). The app never imports it."""
