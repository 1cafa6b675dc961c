"""pytest plugin for `make mutate`: records which test runs which line of the mutated
modules (coverage.py, one context per test id), so that each mutant runs only the tests
that reach it. Loaded with `-p bench.mutation_coverage`; MUTATION_COVERAGE_FILE names
the data file and MUTATION_COVERAGE_INCLUDE the modules (comma-separated paths)."""

import os

import coverage
import pytest

_coverage = None


def pytest_configure(config):
    global _coverage
    _coverage = coverage.Coverage(
        data_file=os.environ["MUTATION_COVERAGE_FILE"],
        include=os.environ["MUTATION_COVERAGE_INCLUDE"].split(","),
    )
    _coverage.start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _coverage.switch_context(item.nodeid)
    yield
    _coverage.switch_context("")


def pytest_unconfigure(config):
    _coverage.stop()
    _coverage.save()
