"""Developer tools that are not part of the app: the metadata checker that tests and
``bench/metadata.py`` use on enhanced copies, and the screenshot renderer.

The app (``photoenhance.core``, ``.cli``, ``.gui``) never imports this package
(``tests/core/test_layers.py`` enforces it)."""
