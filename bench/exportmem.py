"""Time and peak memory of a streamed export, in a process of its own (so that nothing
the benchmark loaded before counts): resident memory sampled every few milliseconds
while the response is consumed, then a second pass under tracemalloc for the Python
heap's peak."""

import multiprocessing
import os
import queue
import threading
import time


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


class _Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _rss()
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.005)


def _child(url, path, username, results):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    import tracemalloc

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from .measure import client_for

    client = client_for(get_user_model().objects.get(username=username))
    client.get("/healthz")  # everything imported, connections open

    def export():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        size = lines = 0
        for chunk in response.streaming_content if response.streaming else [response.content]:
            size += len(chunk)
            lines += chunk.count(b"\n")
        return size, lines

    start_rss = _rss()
    sampler = _Sampler()
    sampler.start()
    began = time.perf_counter()
    size, lines = export()
    seconds = time.perf_counter() - began
    sampler.running = False
    sampler.join()
    tracemalloc.start()
    export()
    _current, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results.put(
        {
            "path": path,
            "user": username,
            "format": "csv",
            "rows": lines - 1,
            "bytes": size,
            "seconds": round(seconds, 2),
            "start_rss_mb": round(start_rss / 2**20, 1),
            "peak_rss_mb": round(sampler.peak / 2**20, 1),
            "rss_growth_mb": round((sampler.peak - start_rss) / 2**20, 1),
            "python_peak_mb": round(python_peak / 2**20, 1),
        }
    )


def wait_for(results, processes, timeout=1800):
    """The next report on `results`; fails at once when a process died without one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return results.get(timeout=1)
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a benchmark process failed (exit code {dead[0].exitcode})") from None
    raise RuntimeError("a benchmark process did not report in time")


def measure(*, path, username, url=None, limit_mb=150):
    url = url or os.environ["DATABASE_URL"]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_child, args=(url, path, username, results))
    process.start()
    try:
        outcome = wait_for(results, [process])
    finally:
        process.join(timeout=60)
    outcome["target_mb"] = limit_mb
    outcome["met"] = outcome["peak_rss_mb"] < limit_mb
    return outcome
