"""`make bench`: generate a large dataset on PostgreSQL and measure the pages, reports,
exports and transitions against targets (README "Performance"). Not part of the test
suite; tests/test_bench_smoke.py keeps this code working at a tiny scale."""
