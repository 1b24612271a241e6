"""CPU-bound bulk work in Python: a data comparison over a city, on a 2-core server.

forked shares work out among forked processes while this process goes on with other work. The work's
large read-only inputs are inherited by the forked processes rather than pickled to them; only the
slices' bounds go out and their results come back. The children never
touch the parent's database connection, and they end without running its finalisers, so a
transaction open in the parent is not disturbed."""

import gc
import multiprocessing
import os
from contextlib import contextmanager

# Below this many items a fork costs more than it saves.
FORK_FROM = 5000
SLICES_PER_PROCESS = 4  # later items may cost more than earlier ones: small slices keep processes busy alike

_job = None


@contextmanager
def forked(function, prepare, count, processes, niceness=0):
    """function(*prepare(), start, stop) over range(count) in slices, in up to `processes` forked processes,
    begun now: yields a callable that returns the slices' result lists joined in order, so that this process
    may do other work meanwhile. Fork before starting a thread of your own: a forked child has only the
    forking thread. With one process or little work, it all runs here when the result is asked for.

    `prepare` builds the function's large read-only inputs once in each child, from what the child
    inherits: this process goes on at once instead of building them first.
    `niceness`: how much lower the children's CPU priority is (os.nice), where what this process and its
    database do meanwhile decides when all is done, and the children may use what CPU they leave."""
    if processes <= 1 or count < FORK_FROM:
        yield lambda: function(*prepare(), 0, count)
        return
    global _job
    _job = (function, prepare)
    step = -(-count // (processes * SLICES_PER_PROCESS))
    # The children's garbage collector would otherwise write to every inherited object, copying the
    # parent's memory page by page.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes, _start, (niceness,)) as pool:
            parts = pool.starmap_async(_run, [(start, min(start + step, count)) for start in range(0, count, step)], 1)
            yield lambda: [item for part in parts.get() for item in part]
    finally:
        _job = None
        gc.unfreeze()


def _start(niceness):
    """In each child, before its first slice."""
    global _job
    os.nice(niceness)
    function, prepare = _job
    _job = (function, prepare())


def _run(start, stop):
    function, shared = _job
    return function(*shared, start, stop)


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside: a run builds hundreds of thousands of objects that it keeps,
    and each collection would walk them all again (about a tenth of a city's run) to find no cycles.
    Reference counting still frees what is dropped; collection resumes on the way out of the outermost
    pause. Each entry keeps its own state (also as a decorator), so nested and concurrent pauses end
    with collection on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
