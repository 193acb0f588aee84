"""Results: one JSON file per size under docs/bench-results/, and docs/performance.md
rebuilt from all of them (so a size measured last week keeps its table, and
the growth table compares whatever sizes have been measured)."""

from __future__ import annotations

import json
from pathlib import Path

from portal import db

RESULTS_DIR = db.ROOT / "docs" / "bench-results"
REPORT = db.ROOT / "docs" / "performance.md"
ORDER = ("smoke", "10k", "100k", "1m")


def save(result: dict, results_dir: Path = RESULTS_DIR) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result['size']}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def load_all(results_dir: Path = RESULTS_DIR) -> list[dict]:
    found = {p.stem: json.loads(p.read_text()) for p in results_dir.glob("*.json")} if results_dir.exists() else {}
    return [found[size] for size in ORDER if size in found and size != "smoke"]


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def _errors(errors: dict) -> str:
    return ", ".join(f"{k}×{v}" for k, v in errors.items()) or "0"


def size_section(r: dict) -> list[str]:
    meta = r["meta"]
    lines = [f"## {r['size']}", "",
             f"Measured {meta['date']} on PostgreSQL {meta['postgres']}, {meta['nproc']} cores "
             f"(`nproc`; {meta.get('started', 'load average not recorded')}, after: "
             f"{' '.join(str(x) for x in meta.get('load_average', []))}), with `{meta['command']}`. Largest instructor: {meta['instructor_students']:,} "
             f"distinct students; biggest course: {meta['biggest_course_enrollments']:,} enrollments.", ""]
    if r.get("generation"):
        g = r["generation"]
        lines += [f"Dataset generated in this run in {g['seconds']:,.1f} s "
                  f"(figures verified in {g['figures']['verify_seconds']} s): "
                  + ", ".join(f"{k} {v:,}" for k, v in g["counts"].items()) + ".", ""]
    lines += ["### Helper functions (largest instructor): app (RLS) vs owner (BYPASSRLS)", ""]
    lines += table(["call", "app ms", "owner ms", "ratio", "rows app / owner"],
                   [[h["name"], h["app_ms"], h["owner_ms"], h["ratio"], f"{h['app_rows']} / {h['owner_rows']}"]
                    for h in r["helpers"]])
    lines += ["### Instructor pages' statements: app (RLS) vs owner, same SQL", "",
              "Sums of the per-statement medians. *rows differ*: statements whose owner run returned a "
              "different row count (the statement leaves filtering to RLS).", ""]
    lines += table(["page", "statements", "app ms", "owner ms", "ratio", "rows differ", "slowest statement (app ms)"],
                   [[p["name"], p["statements"], p["app_ms"], p["owner_ms"], p["ratio"], p["rows_differ"],
                     f"{p['slowest']['app_ms']} ms: `{p['slowest']['sql'][:90]}`" if p.get("slowest") else None]
                    for p in r["pages_sql"]])
    load = r["pages_http"]
    lines += [f"### Instructor pages under load: gunicorn ({load['workers']} workers), concurrency "
              f"{load['concurrency']}", "",
              "Server time from the `Server-Timing` header the bench WSGI adds; client time includes queueing.", ""]
    alone = r["meta"]["settings"].get("alone")  # results from before it was measured: one request
    lines += [(f"*alone*: server p50 / p95 of {alone} requests one after another before the load"
               if alone else "*alone*: one request on its own, before the load")
              + f" (a page whose first request takes more than {r['meta']['settings'].get('slow_page', 30):g} s "
              "is reported, not loaded).", ""]
    lines += table(["page", "alone p50 / p95 ms", "requests", "errors", "server p50 ms", "server p95 ms", "client p50 ms",
                    "client p95 ms"],
                   [[p["name"], f"{_cell(p.get('alone_ms'))} / {_cell(p.get('alone_p95_ms'))}", p["requests"] if p.get("loaded", True) else "not loaded",
                     _errors(p["errors"]), *(
                         [p["server_p50_ms"], p["server_p95_ms"], p["client_p50_ms"], p["client_p95_ms"]]
                         if p.get("loaded", True) else [None] * 4)] for p in load["pages"]])
    t = load["throughput"]
    if t["dashboard_rps"] is None:
        lines += [f"Throughput not measured: one dashboard request alone took {t.get('dashboard_alone_ms')} ms.", ""]
    else:
        lines += [f"Throughput at concurrency {load['concurrency']} (median of {t['rounds']} alternated rounds): "
                  f"dashboard {t['dashboard_rps']} req/s, bare page (one primary-key SELECT) {t['bare_rps']} req/s, "
                  f"the bare page serves {t.get('bare_over_dashboard', t.get('ratio'))}× as many.", ""]
    lines += ["### Inserts: every trigger vs a bare table", ""]
    lines += table(["insert", "app ms", "bare ms", "ratio"],
                   [[w["name"], w["app_ms"], w["bare_ms"], w["ratio"]] for w in r["inserts"]])
    c = r["concurrency"]
    lines += [f"### {c['enrollments']} concurrent enrollments into one course", "",
              f"{c['succeeded']} succeeded; latency p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms, max {c['max_ms']} ms "
              f"(wall {c['wall_ms']} ms); enrolled_count {c['enrolled_count_before']:,} → "
              f"{c['enrolled_count_after']:,} ({'exactly +' + str(c['enrollments']) if c['count_ok'] else 'WRONG'}); "
              f"verify_denormalized_figures(): {c['verify_mismatches']} row(s)."
              + (f" Errors: {c['errors']}" if c["errors"] else ""), ""]
    return lines


def growth(results: list[dict]) -> list[str]:
    if len(results) < 2:
        return []
    sizes = [r["size"] for r in results]
    rows = []
    for i, helper in enumerate(results[0]["helpers"]):
        rows.append([f"{helper['name']} (app ms)"] + [r["helpers"][i]["app_ms"] if i < len(r["helpers"]) else None
                                                      for r in results])
    # By name: a size measured before a page joined the list has no figure for it ("—").
    pages = [{page["name"]: page for page in r["pages_http"]["pages"]} for r in results]
    for name in pages[-1]:
        rows.append([f"{name} (server ms, one request alone)"]
                    + [by_name[name].get("alone_ms") if name in by_name else None for by_name in pages])
        rows.append([f"{name} (server p50 ms at concurrency 8)"]
                    + [by_name[name]["server_p50_ms"] if name in by_name and by_name[name].get("loaded", True)
                       else None for by_name in pages])
    for i, insert in enumerate(results[0]["inserts"]):
        rows.append([f"{insert['name']} (ratio)"] + [r["inserts"][i]["ratio"] for r in results])
    rows.append(["bare page ÷ dashboard throughput"]
                + [r["pages_http"]["throughput"].get("bare_over_dashboard") for r in results])
    rows.append(["50 concurrent enrollments p95 ms"] + [r["concurrency"]["p95_ms"] for r in results])
    return ["## Growth across sizes", ""] + table(["measure", *sizes], rows)


# Results kept from before a change, to compare with (one folder per change).
BEFORE_DIR = RESULTS_DIR / "before-007-008"


def comparison(results: list[dict], before: list[dict]) -> list[str]:
    """The key measures of each size measured both before migrations 007/008 and now."""
    earlier = {r["size"]: r for r in before}
    lines = []
    for now in results:
        then = earlier.get(now["size"])
        if then is None:
            continue
        rows = [[f"{h['name']} (app ms)", o["app_ms"], h["app_ms"]]
                for o, h in zip(then["helpers"], now["helpers"])]
        for o, p in zip(then["pages_http"]["pages"], now["pages_http"]["pages"]):
            rows.append([f"{p['name']} (server ms alone / p95 at concurrency 8)",
                         f"{_cell(o.get('alone_ms'))} / {_cell(o['server_p95_ms']) if o.get('loaded', True) else 'not loaded'}",
                         f"{_cell(p.get('alone_ms'))} / {_cell(p['server_p95_ms']) if p.get('loaded', True) else 'not loaded'}"])
        for o, w in zip(then["inserts"], now["inserts"]):
            rows.append([f"{w['name']} (ratio)", o["ratio"], w["ratio"]])
        rows.append(["bare page ÷ dashboard throughput",
                     then["pages_http"]["throughput"].get("bare_over_dashboard"),
                     now["pages_http"]["throughput"].get("bare_over_dashboard")])
        rows.append(["50 concurrent enrollments p95 ms", then["concurrency"]["p95_ms"], now["concurrency"]["p95_ms"]])
        lines += [f"## {now['size']}: before and after migrations 007 and 008", "",
                  f"Before: measured {then['meta']['date']} on main before 007/008 "
                  f"(`docs/bench-results/before-007-008/{now['size']}.json`); after: this run.", ""]
        lines += table(["measure", "before", "after"], rows)
    return lines


def write(results_dir: Path = RESULTS_DIR, path: Path = REPORT) -> Path:
    results = load_all(results_dir)
    lines = ["# Performance", "",
             "Written by `python -m portal bench run --size <size>` (`make bench SIZE=<size>`) from "
             "`docs/bench-results/<size>.json`; `python -m portal bench report` rebuilds it. Each ratio comes from "
             "one interleaved run (the two sides alternated, several rounds, medians). What each side runs is "
             "described in `portal/bench/` (measure.py, load.py, writes.py).", ""]
    for result in results:
        lines += size_section(result)
    lines += growth(results)
    lines += comparison(results, load_all(BEFORE_DIR) if results_dir == RESULTS_DIR else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path
