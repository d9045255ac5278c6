"""Offline tools of the improvability ranker: labels, training, quality baselines."""
