import gc
import multiprocessing.util
import os
import signal

import pytest

from hezuo_shenbao.lib import compute


def _squares_and_pids(numbers, start, stop):
    return [(n * n, os.getpid()) for n in numbers[start:stop]]


def _pids(numbers, start, stop):
    return [os.getpid() for _ in numbers[start:stop]]


def test_forked_shares_the_slices_among_processes_and_keeps_their_order(monkeypatch):
    monkeypatch.setattr(compute, "FORK_FROM", 0)
    numbers = list(range(1000))
    with compute.forked(_squares_and_pids, lambda: (numbers,), len(numbers), 2) as result:
        squares = result()
    assert [square for square, _ in squares] == [n * n for n in numbers]
    assert os.getpid() not in {pid for _, pid in squares}


def test_forked_work_runs_while_this_process_goes_on_and_each_child_prepares_its_inputs(monkeypatch):
    monkeypatch.setattr(compute, "FORK_FROM", 0)
    numbers, prepared_in = list(range(100)), []

    def prepare():
        prepared_in.append(os.getpid())  # in a child: its own copy of the list
        return (numbers,)

    with compute.forked(_pids, prepare, len(numbers), 2) as result:
        # Written while the children work: they inherited the list as it was at the fork.
        numbers.append(-1)
        children = set(result())
    assert not prepared_in and children and os.getpid() not in children


def test_forked_runs_small_work_here_when_its_result_is_asked_for():
    prepared = []
    with compute.forked(_squares_and_pids, lambda: prepared.append(1) or ([1, 2, 3],), 3, 2) as result:
        assert not prepared
        assert result() == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


def test_gc_paused_pauses_collection_and_restores_it():
    @compute.gc_paused()
    def inner():
        return gc.isenabled()

    with compute.gc_paused():
        assert not gc.isenabled() and not inner()
        assert not gc.isenabled()  # the inner pause does not end the outer one
    assert gc.isenabled()


def test_gc_paused_as_a_decorator_restores_collection_after_recursion():
    @compute.gc_paused()
    def countdown(n):
        return countdown(n - 1) if n else gc.isenabled()

    assert countdown(3) is False
    assert gc.isenabled()


def _niceness(numbers, start, stop):
    return [os.nice(0) for _ in numbers[start:stop]]


def test_forked_children_may_run_at_a_lower_priority(monkeypatch):
    monkeypatch.setattr(compute, "FORK_FROM", 0)
    here = os.nice(0)
    with compute.forked(_niceness, lambda: ([1, 2],), 2, 2, niceness=5) as result:
        assert set(result()) == {min(here + 5, 19)}
    assert os.nice(0) == here


def test_a_failure_preparing_the_inputs_in_a_child_is_raised_here(monkeypatch):
    monkeypatch.setattr(compute, "FORK_FROM", 0)

    def prepare():
        raise MemoryError("too large")

    with pytest.raises(MemoryError, match="too large"), compute.forked(_pids, prepare, 4, 2) as result:
        result()


def test_forked_children_run_none_of_this_process_s_after_fork_hooks(monkeypatch, tmp_path):
    """kombu closes its connections after a multiprocessing fork, reading from a Redis socket the parent
    shares: in a process that has used Celery's broker, a child that ran that hook waited for ever."""
    monkeypatch.setattr(compute, "FORK_FROM", 0)
    ran, holder = tmp_path / "ran", type("Holder", (), {})()
    multiprocessing.util.register_after_fork(holder, lambda _: ran.write_text("hook"))
    with compute.forked(_pids, lambda: ([1, 2, 3, 4],), 4, 2) as result:
        assert len(result()) == 4
    assert not ran.exists()


def _killed(numbers, start, stop):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_that_dies_is_reported_not_waited_for(monkeypatch):
    monkeypatch.setattr(compute, "FORK_FROM", 0)
    with pytest.raises(RuntimeError, match="意外退出"), compute.forked(_killed, lambda: ([1, 2],), 2, 2) as result:
        result()


def _unpicklable(numbers, start, stop):
    return [lambda: None for _ in numbers[start:stop]]


def test_a_result_that_cannot_come_back_is_reported(monkeypatch):
    monkeypatch.setattr(compute, "FORK_FROM", 0)
    with pytest.raises(RuntimeError, match="无法传回"), compute.forked(_unpicklable, lambda: ([1, 2],), 2, 2) as result:
        result()
