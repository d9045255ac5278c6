"""photoenhance.gui: the PySide6 desktop app over photoenhance.core."""

try:  # before any widget work: PySide6 6.12.0 on Python 3.11 leaks references to None
    from photoenhance.gui.compat import guard_singletons

    guard_singletons()
except ImportError:  # PySide6 missing: importing a view module says so
    pass
