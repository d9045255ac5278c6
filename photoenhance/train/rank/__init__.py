"""Offline tools of the improvability ranker: ``python -m photoenhance.train.rank.labels``
(training regions and their gains), ``.train`` (the ranker), ``.choose_q`` (the quality
measure the labels use); no-reference quality and classic baselines for the benchmarks."""
