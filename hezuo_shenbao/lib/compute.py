"""CPU-bound bulk work in Python: a data comparison over a city, on a 2-core server.

forked shares work out among forked processes while this process goes on with other work. The work's
large read-only inputs are built by each forked process from what it inherits rather than pickled to
it; only the results come back, through a pipe. The children never touch the parent's database
connection, and they end without running its finalisers, so a transaction open in the parent is not
disturbed.

The children are forked with os.fork rather than by multiprocessing: a multiprocessing child first runs
every after-fork hook registered in the parent, and kombu's closes the parent's broker connections, which
in a process that has used Celery's Redis broker reads from a socket the parent shares and waits for ever."""

import gc
import os
import pickle
import signal
from contextlib import contextmanager

# Below this many items a fork costs more than it saves.
FORK_FROM = 5000
SLICES_PER_PROCESS = 4  # later items cost more than earlier ones: each process takes every n-th slice


@contextmanager
def forked(function, prepare, count, processes, niceness=0):
    """function(*prepare(), start, stop) over range(count) in slices, in `processes` forked processes,
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
    step = -(-count // (processes * SLICES_PER_PROCESS))
    slices = [(start, min(start + step, count)) for start in range(0, count, step)]
    children = []
    # The children's garbage collector would otherwise write to every inherited object, copying the
    # parent's memory page by page.
    gc.freeze()
    try:
        for first in range(processes):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                _child(function, prepare, slices[first::processes], niceness, write)
            os.close(write)
            children.append((pid, read))
        yield lambda: _gathered(children, len(slices))
    finally:
        for pid, read in children:  # left if the caller failed before asking for the result
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
        gc.unfreeze()


def _child(function, prepare, slices, niceness, write):
    """Run in a forked child: never returns."""
    try:
        os.nice(niceness)
        shared = prepare()
        outcome = [function(*shared, start, stop) for start, stop in slices]
    except BaseException as error:  # noqa: BLE001 - raised again in the parent
        outcome = error
    try:
        try:  # pickled whole before any of it is written, so that the parent reads one outcome or the other
            data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - an outcome that cannot be pickled
            data = pickle.dumps(RuntimeError(f"比对子进程的结果无法传回：{error!r}"))
        with os.fdopen(write, "wb") as out:
            out.write(data)
    finally:
        os._exit(0)


def _gathered(children, count):
    """The children's results, slice by slice in order; a child's failure raised here."""
    parts = []
    while children:
        pid, read = children.pop(0)
        try:
            with os.fdopen(read, "rb") as pipe:
                outcome = pickle.load(pipe)
        except EOFError:
            outcome = RuntimeError("比对子进程意外退出，未传回结果（可能内存不足）")
        finally:
            os.waitpid(pid, 0)
        if isinstance(outcome, BaseException):
            raise outcome
        parts.append(outcome)
    processes = len(parts)
    return [item for index in range(count) for item in parts[index % processes][index // processes]]


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
