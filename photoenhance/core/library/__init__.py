"""The photo library on disk: scanning it into the catalog, and the rules for what to skip."""

from photoenhance.core.library.scan import ScanEvent, ScanSummary, check_roots, run_scan, scan

__all__ = ["ScanEvent", "ScanSummary", "check_roots", "run_scan", "scan"]
