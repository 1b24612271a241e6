"""Pausing Python's cyclic garbage collector while a bulk read builds many small objects."""

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """Building ~100,000 small objects (a county's quality facts, the register's name index) sets off the cyclic
    garbage collector again and again, and each full collection walks every object the process holds (about
    40 % of a county-wide 申报质量 page, bench_supervision; a third of building the name index in a worker that
    has imported before). None of these objects form cycles, so the collector waits until we are done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
