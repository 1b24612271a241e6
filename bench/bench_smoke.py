"""Reference data load: the first thing every deployment does."""

import time

from employers.services import load_reference


def run(report):
    started = time.perf_counter()
    counts = load_reference()
    report("reference", "load_reference (townships, industries, factors)", time.perf_counter() - started, "s")
    report("reference", "industries loaded", counts["industries"], "rows")
