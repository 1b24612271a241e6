"""`make bench`: run every bench/bench_*.py module, print one table, write var/bench.json.

Each module defines run(report, args); report(section, metric, value, unit, target=None)
records one figure. `python -m bench register import` runs only those modules."""

import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hezuo_shenbao.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hezuo_shenbao_bench")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(selected):
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.db import fresh_database

    print(f"load average (1 min) at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    fresh_database()
    call_command("migrate", verbosity=0)
    figures = []

    def report(section, metric, value, unit, target=None):
        ok = "" if target is None else ("✓" if value <= target else "✗")
        figures.append({"section": section, "metric": metric, "value": value, "unit": unit, "target": target})
        if isinstance(value, str):
            shown = value
        else:
            shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        goal = "" if target is None else f"≤ {target:,}"
        print(f"  {section:<10} {metric:<52} {shown:>14} {unit:<8} {goal:<12} {ok}", flush=True)

    modules = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    names = [m[len("bench_") :] for m in modules if m.startswith("bench_")]
    for name in names:
        if selected and name not in selected:
            continue
        print(f"[{name}]", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.bench_{name}").run(report)
        print(f"  ({name}: {time.perf_counter() - started:.1f} s)", flush=True)

    # Figures are wall-clock times on a 2-core machine: say how busy it was.
    report("machine", "load average (1 min) at the end", round(os.getloadavg()[0], 2), "")
    out = Path(settings.VAR_DIR) / "bench.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
    print(f"figures written to {out}")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
