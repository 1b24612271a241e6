"""Uploaded files are parsed in a child process under a memory and a CPU-time limit.

A spreadsheet is untrusted input to parsers written in C and Rust (calamine reads a whole sheet into
memory and trusts what the file declares): a damaged or hostile file can make them reserve gigabytes
or loop, and no `except` catches a process the kernel kills. So readers.open_table runs in a fresh
Python process (`python -m matching.untrusted`) with RLIMIT_AS = IMPORT_MEMORY_MB and RLIMIT_CPU =
IMPORT_PARSE_SECONDS. It gets the file's path and the reader's limits, never the project's settings:
it cannot reach the database. It sends the picked cells of each row back through a pipe (pickles
of plain values, unpickled by an Unpickler that admits nothing but the datetime types), so the worker
reads the rows as they come and the child never holds more than the parser needs. When the child
dies, the import is refused with the reason in Chinese.

The worker's own memory (the records and aggregates it builds) is checked against the same budget as
the rows arrive: `check_memory`.
"""

import io
import json
import os
import pickle
import resource
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager

ROWS_PER_MESSAGE = 1000
# The settings readers.py uses, handed to the child as they are in the parent (tests change them).
READER_SETTINGS = (
    "UPLOAD_MAX_BYTES",
    "IMPORT_MAX_UNPACKED_BYTES",
    "IMPORT_MAX_RATIO",
    "IMPORT_MAX_CELLS",
    "IMPORT_MAX_COLUMNS",
    "IMPORT_MAX_ROWS",
)


@contextmanager
def open_table(path, display_name, required):
    """readers.open_table in a limited child: `with open_table(...) as table: for row in table.rows: …`.
    Raises readers.FileProblem for a refused file, a child over its limits included."""
    from django.conf import settings

    from . import readers

    limits = {name: getattr(settings, name) for name in READER_SETTINGS}
    limits["MEMORY"], limits["SECONDS"] = settings.IMPORT_MEMORY_BYTES, settings.IMPORT_PARSE_SECONDS
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "matching.untrusted", str(path), display_name, json.dumps([required, limits])],
            cwd=settings.BASE_DIR,
            env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        try:
            messages = _messages(child.stdout)
            kind, content = next(messages, ("died", None))
            if kind == "problem":
                raise readers.FileProblem(content)
            if kind != "table":
                raise readers.FileProblem(_death(child, errors, display_name, settings))
            table = readers.Table(**content)
            table.rows = _rows(messages, table.letters, child, errors, display_name)
            yield table
        finally:
            # The worker may stop reading early (an error of its own): the child must not outlive it.
            if child.poll() is None:
                child.kill()
            child.stdout.close()
            child.wait()


def _rows(messages, letters, child, errors, display_name):
    from django.conf import settings

    from . import readers

    for kind, content in messages:
        if kind == "rows":
            for number, values, formulas in content:
                yield readers.Row(number, values, letters, formulas)
        elif kind == "problem":
            raise readers.FileProblem(content)
        elif kind == "end":
            return
    raise readers.FileProblem(_death(child, errors, display_name, settings))


def _death(child, errors, display_name, settings):
    """The Chinese reason a child ended without finishing: over its CPU time, or over its memory."""
    child.wait()
    if child.returncode == -signal.SIGXCPU:
        return (
            f"文件「{display_name}」解析超过 {settings.IMPORT_PARSE_SECONDS} 秒（CPU 时间）仍未完成，已停止："
            "文件可能已损坏或过大。请拆分为多个文件，或另存为 CSV 后再导入。"
        )
    errors.seek(0)
    tail = errors.read()[-2000:].decode("utf-8", "replace")
    memory = settings.IMPORT_MEMORY_BYTES // 1048576
    exhausted = ("MemoryError", "memory allocation", "failed to map segment")
    if any(sign in tail for sign in exhausted) or child.returncode in (-signal.SIGABRT, -signal.SIGKILL):
        return (
            f"文件「{display_name}」解析所需内存超过上限 {memory} MB，已拒绝：文件过大（或已损坏）。"
            "请拆分为多个文件，或另存为 CSV（CSV 逐行读取，占用内存很少）后再导入。"
        )
    return f"文件「{display_name}」已损坏或格式不受支持，解析进程异常退出（代码 {child.returncode}），未写入任何数据。"


class _PlainValues(pickle.Unpickler):
    """Cells are str, int, float, bool, None and dates and times: nothing else may be rebuilt."""

    ALLOWED = {("datetime", name) for name in ("date", "datetime", "time", "timedelta", "timezone")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def _messages(stream):
    # One unpickler per message: each was pickled on its own, and an unpickler's memo would outlive it.
    while True:
        try:
            yield _PlainValues(stream).load()
        except EOFError:
            return


def check_memory(display_name, row):
    """Refuse the import when this process has grown past the budget (IMPORT_MEMORY_MB) while
    reading: what it keeps grows with the rows (records, problems, exam aggregates)."""
    from django.conf import settings

    from . import readers

    resident = resident_bytes()
    if resident > settings.IMPORT_MEMORY_BYTES:
        raise readers.FileProblem(
            f"文件「{display_name}」读到第 {row} 行时，导入占用的内存已达 {resident // 1048576} MB，"
            f"超过上限 {settings.IMPORT_MEMORY_BYTES // 1048576} MB，已停止，未写入任何数据。"
            "请把文件拆分为几个较小的文件分别导入。"
        )


def resident_bytes():
    """This process's resident memory now (not its peak, which an earlier task may have set)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(path, display_name, arguments):
    required, limits = json.loads(arguments)
    memory, seconds = limits.pop("MEMORY"), limits.pop("SECONDS")
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # SIGXCPU at the limit (the parent names it), SIGKILL shortly after if it is ignored.
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    from django.conf import settings

    settings.configure(**limits)
    from . import readers

    out = io.BufferedWriter(sys.stdout.buffer.raw, 1 << 16)

    def send(kind, content):
        pickle.dump((kind, content), out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        table = readers.open_table(path, display_name, required)
        send("table", _table_fields(table))
        rows = []
        for row in table.rows:
            rows.append((row.number, row.values, row.formulas))
            if len(rows) == ROWS_PER_MESSAGE:
                send("rows", rows)
                rows = []
        send("rows", rows)
        send("end", None)
    except readers.FileProblem as problem:
        send("problem", str(problem))
    out.flush()


def _table_fields(table):
    fields = ("file_name", "sheet", "header_row", "headers", "fields", "total", "notes", "letters")
    return {name: getattr(table, name) for name in fields}


if __name__ == "__main__":
    _child(*sys.argv[1:4])
