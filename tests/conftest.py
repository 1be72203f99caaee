"""Fixtures and hooks for every test tier.

In CI (`CI=true`) a skipped test is reported as a failure (tests/support/requires.py explains why);
importing the hooks here installs them for the whole suite.
"""

from tests.support.requires import pytest_make_collect_report, pytest_runtest_makereport

__all__ = ["pytest_make_collect_report", "pytest_runtest_makereport"]
