"""ML tests run on random-weight tiny nets; keep torch to one thread so they stay quick and
do not starve other work on small machines."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
