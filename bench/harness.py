"""Runs kpi, DuckDB and Polars on the same generated files, checks that their
values agree, and prints (and records in BENCHMARKS.md) load time, compute
time, peak memory and the ratios. Started by bench/run, which builds kpi,
generates the data and installs the peers first.

kpi has no load/compute split of its own, so the harness takes it from the
running binary without changing it: uprobes (`perf probe`) on
kpi_engine::read::read_from (entry and return: every file read) and on
kpi_engine::result::ResultTable::render (output starts). load = from the
first read_from entry to the last return (tables are read side by side with
several threads); compute = from the last read_from return to render; the
rest of the wall time is start-up, definitions and writing the output. Where
uprobes cannot be set (no perf, not root, symbols renamed), only the wall
time is reported for kpi.

With --full-sql, DuckDB also runs the full built-in suite (duckdb_suite.py
--full: bench/duckdb/<metric>.sql for every KPI of suite.FULL) after kpi's
full-suite run in each repetition; its values are checked against kpi's
full-suite output and its times are shown next to kpi's in the full-suite
table.
"""

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KPI = os.path.join(ROOT, "target", "release", "kpi")
PY = os.path.join(HERE, ".venv", "bin", "python")
from suite import SUITE  # noqa: E402  (bench/ is the script's directory)
RTOL = 1e-9
PROBE_GROUP = "kpibench"
PROBES = {
    # event name: (symbol as nm -C shows it, on return?)
    "rf": ("kpi_engine::read::read_from", False),
    "rfr": ("kpi_engine::read::read_from", True),
    "render": ("kpi_engine::result::ResultTable::render", False),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# --------------------------------------------------------------- kpi probes

class Probes:
    """uprobes on the kpi binary, for its load/compute split."""

    def __init__(self, binary):
        self.binary = binary
        self.ok = False
        self.why = ""
        if not shutil.which("perf"):
            self.why = "perf is not installed"
            return
        try:
            self._add()
            self.ok = True
        except Exception as e:  # noqa: BLE001 - any failure means: no split
            self.why = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
            self.remove()

    def _offset(self, symbol):
        """File offset of `symbol` (perf probe -x takes file offsets)."""
        out = subprocess.run(["nm", "-C", self.binary], capture_output=True, text=True, check=True).stdout
        addrs = [int(l.split()[0], 16) for l in out.splitlines()
                 if len(l.split(maxsplit=2)) == 3 and l.split(maxsplit=2)[2] == symbol
                 and l.split()[1] in "tT"]
        if len(addrs) != 1:
            raise RuntimeError(f"symbol {symbol} found {len(addrs)} times in {self.binary}")
        addr = addrs[0]
        segs = subprocess.run(["readelf", "-lW", self.binary], capture_output=True, text=True, check=True).stdout
        for l in segs.splitlines():
            f = l.split()
            if f and f[0] == "LOAD":
                off, vaddr, memsz = int(f[1], 16), int(f[2], 16), int(f[5], 16)
                if vaddr <= addr < vaddr + memsz:
                    return addr - vaddr + off
        raise RuntimeError(f"no LOAD segment holds {symbol}")

    def _add(self):
        self.remove()
        for name, (sym, ret) in PROBES.items():
            spec = f"{PROBE_GROUP}:{name}=0x{self._offset(sym):x}" + ("%return" if ret else "")
            subprocess.run(["perf", "probe", "-q", "-x", self.binary, "-a", spec],
                           capture_output=True, text=True, check=True)

    def remove(self):
        if shutil.which("perf"):
            subprocess.run(["perf", "probe", "-q", "-d", f"{PROBE_GROUP}:*"], capture_output=True)

    def wrap(self, data_file):
        if not self.ok:
            return []
        return ["perf", "record", "-q", "-o", data_file, "-e", f"{PROBE_GROUP}:*", "--"]

    @staticmethod
    def phases(data_file):
        out = subprocess.run(["perf", "script", "-i", data_file, "-F", "time,event"],
                             capture_output=True, text=True).stdout
        ev = []
        for l in out.splitlines():
            m = re.match(r"\s*([\d.]+):\s+" + PROBE_GROUP + r":(\w+):", l)
            if m:
                ev.append((float(m.group(1)), m.group(2)))
        # Load: from the first read's start to the last read's return (with
        # several threads, tables are read side by side); compute: from
        # there to rendering.
        first, last_ret, render = None, None, None
        for t, e in ev:
            if e == "rf" and first is None:
                first = t
            elif e.startswith("rfr"):
                last_ret = t
            elif e == "render" and render is None:
                render = t
        if first is None or last_ret is None or render is None:
            return None
        return {"load": last_ret - first, "compute": render - last_ret}


# ------------------------------------------------------------- processes

def timed(cmd, cwd=None, env=None, stdout_path=None, wrap=()):
    """Runs cmd under /usr/bin/time -v (itself under `wrap`, e.g. perf
    record); returns wall seconds and peak RSS (MiB) of cmd alone, stdout
    (unless sent to a file) and stderr."""
    full = list(wrap) + ["/usr/bin/time", "-v"] + cmd
    out = open(stdout_path, "w") if stdout_path else subprocess.PIPE
    t0 = time.perf_counter()
    p = subprocess.run(full, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if stdout_path:
        out.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    el = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", p.stderr).group(1)
    secs = 0.0
    for part in el.split(":"):
        secs = secs * 60 + float(part)
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1)) for k in ("User", "System"))
    return {"wall": secs, "wall_outer": wall, "rss": rss, "cpu": cpu,
            "stdout": None if stdout_path else p.stdout, "stderr": p.stderr}


def warm(path):
    """Reads every file under `path` once, so that the run that follows
    finds them in the page cache whatever ran before it: the 10M CSV files
    are 6 GB, a peer's few GB of memory push part of them out, and the next
    engine would pay the disk for it (a few seconds from the page cache)."""
    for root, _, files in os.walk(path):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                while fh.read(1 << 24):
                    pass


def run_kpi(metrics, data, probes, out_csv, threads=1):
    warm(data)
    cmd = [KPI, "run", *metrics, "--by", "agent", "--period", "month", "--format", "csv",
           "--threads", str(threads)]
    with tempfile.NamedTemporaryFile(suffix=".perf", delete=False) as f:
        pdata = f.name
    try:
        r = timed(cmd, cwd=data, stdout_path=out_csv, wrap=probes.wrap(pdata))
        ph = Probes.phases(pdata) if probes.ok else None
    finally:
        os.unlink(pdata)
    r["load"] = ph["load"] if ph else None
    r["compute"] = ph["compute"] if ph else None
    r["skipped"] = re.findall(r"^skipped (\w+): (.*)$", r["stderr"], re.M)
    return r


def run_peer(script, data_dir, project, threads, out_csv, fmt, metrics=(), extra=()):
    warm(data_dir)
    env = dict(os.environ, POLARS_MAX_THREADS=str(threads))
    cmd = [PY, os.path.join(HERE, script), "--data", data_dir, "--tz", project["tz"],
           "--from", project["from"], "--to", project["to"], "--out", out_csv, "--format", fmt]
    if script.startswith("duckdb"):
        cmd += ["--threads", str(threads)]
    r = timed(cmd + list(extra) + list(metrics), env=env)
    r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
    return r


# ------------------------------------------------------------ comparison

def read_kpi_csv(path):
    d = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            d[(r["period_start"][:7], r["agent"], r["metric"])] = None if r["value"] == "" else float(r["value"])
    return d


def read_peer_csv(path):
    d = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            d[(r["period"], r["agent"], r["metric"])] = None if r["value"] == "" else float(r["value"])
    return d


def agree(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == b or abs(a - b) <= RTOL * max(abs(a), abs(b))


def compare(k, p, name):
    """Per metric: cells compared, max relative difference, disagreements."""
    res = {"peer": name, "only_kpi": sorted(set(k) - set(p))[:5], "only_peer": sorted(set(p) - set(k))[:5],
           "n_only_kpi": len(set(k) - set(p)), "n_only_peer": len(set(p) - set(k)), "metrics": {}}
    for key in sorted(set(k) & set(p)):
        m = res["metrics"].setdefault(key[2], {"cells": 0, "nulls": 0, "max_rel": 0.0, "bad": 0, "examples": []})
        a, b = k[key], p[key]
        m["cells"] += 1
        if a is None and b is None:
            m["nulls"] += 1
        elif a is not None and b is not None and max(abs(a), abs(b)) > 0:
            m["max_rel"] = max(m["max_rel"], abs(a - b) / max(abs(a), abs(b)))
        if not agree(a, b):
            m["bad"] += 1
            if len(m["examples"]) < 5:
                m["examples"].append({"period": key[0], "agent": key[1], "kpi": a, name: b})
    res["ok"] = res["n_only_kpi"] == 0 and res["n_only_peer"] == 0 and all(
        m["bad"] == 0 for m in res["metrics"].values())
    return res


def agreement_line(comparisons, count_kpis=True):
    parts = []
    for c in comparisons:
        if c["ok"]:
            worst = max((m["max_rel"] for m in c["metrics"].values()), default=0.0)
            of = f" of {len(c['metrics'])} KPIs" if count_kpis else ""
            parts.append(f"kpi and {c['peer']} agree on all {sum(m['cells'] for m in c['metrics'].values())} "
                         f"values{of} (largest relative difference {worst:.1e})")
        else:
            bad = {mn: m["bad"] for mn, m in c["metrics"].items() if m["bad"]}
            parts.append(f"kpi and {c['peer']} DISAGREE: {bad}, cells only in kpi {c['n_only_kpi']}, "
                         f"only in {c['peer']} {c['n_only_peer']}")
    return "; ".join(parts) + "." if parts else "peers not run."


# ---------------------------------------------------------------- report

def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def span(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return (min(vals), max(vals)) if vals else None


def f(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return "–" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def row_count(data_dir, table, fmt):
    """Rows of a generated table: CSV lines less the header, or the Parquet
    footer's count (read by Polars, from the bench venv)."""
    if fmt == "parquet":
        import polars as pl
        return pl.scan_parquet(os.path.join(data_dir, f"{table}.parquet")).select(pl.len()).collect().item()
    with open(os.path.join(data_dir, f"{table}.csv"), "rb") as fh:
        return sum(1 for _ in fh) - 1


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for l in fh:
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", fh.read()).group(1))
    return {"nproc": os.cpu_count(), "mem_gib": mem_kb / 2**20, "cpu": cpu, "kernel": platform.release()}


def git_state():
    def g(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = g("rev-parse", "--short", "HEAD")
    dirty = [l for l in g("status", "--porcelain", "--untracked-files=no").splitlines()
             if l[3:].startswith(("engine/", "dsl/", "src/", "metrics.d/", "Cargo"))]
    return head, len(dirty)


def render(ctx):
    L = []
    m = ctx["machine"]
    L.append(f"### {ctx['scale']}: {ctx['sizes']}")
    L.append("")
    L.append(f"- Date: {ctx['date']}; machine: {m['nproc']} cores ({m['cpu']}), "
             f"{m['mem_gib']:.1f} GiB memory, Linux {m['kernel']}.")
    L.append(f"- Command: `{ctx['command']}` (generator: `{ctx['generate']}`).")
    dirty = f", with uncommitted changes in {ctx['dirty']} engine/CLI files" if ctx["dirty"] else ""
    L.append(f"- kpi {ctx['kpi_version']} built from {ctx['head']}{dirty}; DuckDB {ctx['duckdb_version']}, "
             f"Polars {ctx['polars_version']}, Python {ctx['python']}; {ctx['threads']} thread(s) each "
             f"(DuckDB `SET threads`, `POLARS_MAX_THREADS`, kpi `--threads`).")
    la = ctx["loadavg"]
    L.append(f"- Shared machine: 1-minute load average {min(la):.1f}–{max(la):.1f} "
             f"(median {statistics.median(la):.1f}) over the runs, on {m['nproc']} cores. "
             f"Every figure is the median of {ctx['reps']} runs, interleaved kpi/DuckDB/Polars; "
             f"all runs took {ctx['elapsed'] / 60:.1f} min.")
    L.append("")
    L.append("**Ten KPIs by agent × month** (" + ", ".join(SUITE) + "): "
             f"{ctx['cells']} values per engine.")
    L.append("")
    L.append("| engine | load (s) | compute (s) | load + compute (s) | process wall (s) | process CPU (s) | peak RSS (MiB) |")
    L.append("|---|--:|--:|--:|--:|--:|--:|")
    rows = {}
    for name, runs in (("kpi", ctx["kpi"]), ("DuckDB", ctx["duckdb"]), ("Polars", ctx["polars"])):
        if not runs:
            continue
        ld, cp = med(runs, "load"), med(runs, "compute")
        tot = med([{"t": r["load"] + r["compute"]} for r in runs if r.get("load") is not None], "t")
        rows[name] = (ld, cp, tot, med(runs, "wall"), med(runs, "cpu"), med(runs, "rss"))
        sp = span(runs, "compute")
        spt = f" ({sp[0]:.2f}–{sp[1]:.2f})" if sp and len(runs) > 1 else ""
        L.append(f"| {name} | {f(ld)} | {f(cp)}{spt} | {f(tot)} | {f(rows[name][3])} | {f(rows[name][4])} | {f(rows[name][5], 0)} |")
    for peer in ("DuckDB", "Polars"):
        if peer in rows and "kpi" in rows:
            k, p = rows["kpi"], rows[peer]
            L.append(f"| kpi ÷ {peer} | {ratio(k[0], p[0])} | {ratio(k[1], p[1])} | {ratio(k[2], p[2])} "
                     f"| {ratio(k[3], p[3])} | {ratio(k[4], p[4])} | {ratio(k[5], p[5])} |")
    L.append("")
    L.append("A ratio above 1× means kpi takes longer (or more memory) than the peer. "
             f"Load = reading the {ctx['format_name']} columns the suite reads into memory (timestamps converted to instants); "
             "compute = everything after, up to the result in memory (kpi: up to rendering the output). "
             "Compute is given as median (min–max) over the runs. "
             "Process CPU = user + system time of the whole process, less sensitive than wall time to "
             "other work on the machine. Peers' wall, CPU and RSS include the Python interpreter and "
             "imports (about 0.5 s and 40–60 MiB).")
    L.append("")
    L.append("**Agreement** (relative tolerance 1e-9, nulls must match): " + ctx["agreement_line"])
    L.append("")
    if ctx.get("single"):
        L.append("**Each KPI alone** (kpi: one process per KPI, reading only that KPI's columns; "
                 "DuckDB and Polars: that KPI's query on the tables already loaded, as timed in the runs above):")
        L.append("")
        L.append("| KPI | kpi wall (s) | kpi load (s) | kpi compute (s) | DuckDB query (s) | Polars query (s) | kpi compute ÷ DuckDB | kpi compute ÷ Polars |")
        L.append("|---|--:|--:|--:|--:|--:|--:|--:|")
        for mname in SUITE:
            runs = ctx["single"].get(mname)
            if not runs:
                continue
            dq = med([{"q": r["queries"][mname]} for r in ctx["duckdb"]], "q") if ctx["duckdb"] else None
            pq = med([{"q": r["queries"][mname]} for r in ctx["polars"]], "q") if ctx["polars"] else None
            kc = med(runs, "compute")
            L.append(f"| {mname} | {f(med(runs, 'wall'))} | {f(med(runs, 'load'))} | {f(kc, 3)} | {f(dq, 3)} | {f(pq, 3)} "
                     f"| {ratio(kc, dq)} | {ratio(kc, pq)} |")
        L.append("")
        L.append(ctx["single_check"])
        L.append("")
    if ctx.get("full") and ctx.get("full_duckdb"):
        L.append(f"**Full built-in suite** (`kpi run --by agent --period month`: "
                 f"{ctx['full_n']} KPIs over every table with agent; skipped: {ctx['full_skipped']}; "
                 "DuckDB: `duckdb_suite.py --full`, bench/duckdb/<metric>.sql for each of them):")
        L.append("")
        L.append("| engine | load (s) | compute (s) | load + compute (s) | process wall (s) | process CPU (s) | peak RSS (MiB) |")
        L.append("|---|--:|--:|--:|--:|--:|--:|")
        rows = {}
        for name, runs in (("kpi", ctx["full"]), ("DuckDB", ctx["full_duckdb"])):
            ld, cp = med(runs, "load"), med(runs, "compute")
            tot = med([{"t": r["load"] + r["compute"]} for r in runs if r.get("load") is not None], "t")
            rows[name] = (ld, cp, tot, med(runs, "wall"), med(runs, "cpu"), med(runs, "rss"))
            sp = span(runs, "compute")
            spt = f" ({sp[0]:.2f}–{sp[1]:.2f})" if sp and len(runs) > 1 else ""
            L.append(f"| {name} | {f(ld)} | {f(cp)}{spt} | {f(tot)} | {f(rows[name][3])} | {f(rows[name][4])} "
                     f"| {f(rows[name][5], 0)} |")
        k, p = rows["kpi"], rows["DuckDB"]
        L.append(f"| kpi ÷ DuckDB | {ratio(k[0], p[0])} | {ratio(k[1], p[1])} | {ratio(k[2], p[2])} "
                 f"| {ratio(k[3], p[3])} | {ratio(k[4], p[4])} | {ratio(k[5], p[5])} |")
        L.append("")
        L.append("**Full-suite agreement** (relative tolerance 1e-9, nulls must match): " + ctx["full_agreement_line"])
        L.append("")
    elif ctx.get("full"):
        runs = ctx["full"]
        L.append(f"**Full built-in suite, kpi alone** (`kpi run --by agent --period month`: "
                 f"{ctx['full_n']} KPIs over every table with agent; skipped: {ctx['full_skipped']}):")
        L.append("")
        L.append("| load (s) | compute (s) | process wall (s) | process CPU (s) | peak RSS (MiB) |")
        L.append("|--:|--:|--:|--:|--:|")
        L.append(f"| {f(med(runs, 'load'))} | {f(med(runs, 'compute'))} | {f(med(runs, 'wall'))} "
                 f"| {f(med(runs, 'cpu'))} | {f(med(runs, 'rss'), 0)} |")
        L.append("")
    if ctx.get("par") or ctx.get("full_par"):
        L.append(f"**kpi on {ctx['parallel']} threads** (`--threads {ctx['parallel']}`), against the runs above on "
                 f"{ctx['threads']}:")
        L.append("")
        L.append("| run | threads | load (s) | compute (s) | process wall (s) | process CPU (s) | peak RSS (MiB) |")
        L.append("|---|--:|--:|--:|--:|--:|--:|")
        for label, one, par in (("ten KPIs", ctx["kpi"], ctx.get("par")),
                                ("full suite", ctx["full"], ctx.get("full_par"))):
            for n, runs in ((ctx["threads"], one), (ctx["parallel"], par)):
                if runs:
                    L.append(f"| {label} | {n} | {f(med(runs, 'load'))} | {f(med(runs, 'compute'))} "
                             f"| {f(med(runs, 'wall'))} | {f(med(runs, 'cpu'))} | {f(med(runs, 'rss'), 0)} |")
        L.append("")
        L.append("The output with every core is byte-identical to the one-thread output."
                 if ctx["par_same"] else "**The output with every core DIFFERS from the one-thread output.**")
        L.append("")
    if not ctx["probes_ok"]:
        L.append(f"(kpi's load/compute split unavailable: {ctx['probes_why']}.)")
        L.append("")
    return "\n".join(L)


def write_md(path, scale, section):
    start, end = f"<!-- bench:{scale}:start -->", f"<!-- bench:{scale}:end -->"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n<!-- bench:results -->\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    elif "<!-- bench:results -->" in text:
        text = text.replace("<!-- bench:results -->", "<!-- bench:results -->\n\n" + block, 1)
    else:
        text += "\n" + block + "\n"
    with open(path, "w") as fh:
        fh.write(text)


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--data", required=True, help="the generated project (kpi.toml and data/)")
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv",
                    help="the format of the generated tables (kpi reads what kpi.toml names)")
    ap.add_argument("--generate", default="", help="the generator command, for the record")
    ap.add_argument("--command", default="", help="the bench command, for the record")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=os.cpu_count() or 1,
                    help="threads for the extra kpi runs with every core (0: skip them)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-single", action="store_true", help="skip the one-KPI-at-a-time runs")
    ap.add_argument("--no-full", action="store_true", help="skip the full built-in suite")
    ap.add_argument("--full-sql", action="store_true",
                    help="run DuckDB on the full built-in suite too (duckdb_suite.py --full), "
                         "check it against kpi's full-suite output and show its times")
    ap.add_argument("--md", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--no-md", action="store_true", help="print the table, leave BENCHMARKS.md alone")
    ap.add_argument("--keep", help="directory for the engines' result files (default: a temporary one)")
    a = ap.parse_args()

    started = time.perf_counter()
    data = os.path.abspath(a.data)
    with open(os.path.join(data, "kpi.toml"), "rb") as fh:
        toml = tomllib.load(fh)
    project = {"tz": toml["project"]["timezone"], "from": str(toml["project"]["from"]),
               "to": str(toml["project"]["to"])}
    data_dir = os.path.join(data, "data")
    outdir = a.keep or tempfile.mkdtemp(prefix="kpi-bench-")
    os.makedirs(outdir, exist_ok=True)

    probes = Probes(KPI)
    if not probes.ok:
        log(f"note: no load/compute split for kpi: {probes.why}")
    la = []
    ctx = {"kpi": [], "duckdb": [], "polars": [], "single": {}, "full": [], "par": [], "full_par": [],
           "full_duckdb": []}
    full_sql = a.full_sql and not a.no_full and not a.no_peers
    try:
        for rep in range(a.reps):
            la.append(loadavg())
            log(f"[rep {rep + 1}/{a.reps}] kpi, ten KPIs (load avg {la[-1]:.1f})")
            ctx["kpi"].append(run_kpi(SUITE, data, probes, os.path.join(outdir, "kpi.csv"), a.threads))
            if a.parallel > 1 and a.parallel != a.threads:
                la.append(loadavg())
                log(f"[rep {rep + 1}/{a.reps}] kpi, ten KPIs, {a.parallel} threads (load avg {la[-1]:.1f})")
                ctx["par"].append(run_kpi(SUITE, data, probes, os.path.join(outdir, "kpi_par.csv"), a.parallel))
            if not a.no_peers:
                la.append(loadavg())
                log(f"[rep {rep + 1}/{a.reps}] DuckDB (load avg {la[-1]:.1f})")
                ctx["duckdb"].append(run_peer("duckdb_suite.py", data_dir, project, a.threads,
                                              os.path.join(outdir, "duckdb.csv"), a.format))
                la.append(loadavg())
                log(f"[rep {rep + 1}/{a.reps}] Polars (load avg {la[-1]:.1f})")
                ctx["polars"].append(run_peer("polars_suite.py", data_dir, project, a.threads,
                                              os.path.join(outdir, "polars.csv"), a.format))
            if not a.no_full:
                la.append(loadavg())
                log(f"[rep {rep + 1}/{a.reps}] kpi, full suite (load avg {la[-1]:.1f})")
                ctx["full"].append(run_kpi([], data, probes, os.path.join(outdir, "kpi_full.csv"), a.threads))
                if a.parallel > 1 and a.parallel != a.threads:
                    la.append(loadavg())
                    log(f"[rep {rep + 1}/{a.reps}] kpi, full suite, {a.parallel} threads (load avg {la[-1]:.1f})")
                    ctx["full_par"].append(run_kpi([], data, probes, os.path.join(outdir, "kpi_full_par.csv"),
                                                   a.parallel))
                if full_sql:
                    la.append(loadavg())
                    log(f"[rep {rep + 1}/{a.reps}] DuckDB, full suite (load avg {la[-1]:.1f})")
                    ctx["full_duckdb"].append(run_peer("duckdb_suite.py", data_dir, project, a.threads,
                                                       os.path.join(outdir, "duckdb_full.csv"), a.format,
                                                       extra=["--full"]))
            if not a.no_single:
                for mname in SUITE:
                    la.append(loadavg())
                    log(f"[rep {rep + 1}/{a.reps}] kpi {mname} alone (load avg {la[-1]:.1f})")
                    ctx["single"].setdefault(mname, []).append(
                        run_kpi([mname], data, probes, os.path.join(outdir, f"kpi_{mname}.csv"), a.threads))
    finally:
        probes.remove()

    # Agreement.
    k = read_kpi_csv(os.path.join(outdir, "kpi.csv"))
    comparisons = []
    if not a.no_peers:
        comparisons = [compare(k, read_peer_csv(os.path.join(outdir, "duckdb.csv")), "duckdb"),
                       compare(k, read_peer_csv(os.path.join(outdir, "polars.csv")), "polars")]
    ctx["agreement_line"] = agreement_line(comparisons, count_kpis=False)
    full_comparisons = []
    if ctx["full_duckdb"]:
        full_comparisons = [compare(read_kpi_csv(os.path.join(outdir, "kpi_full.csv")),
                                    read_peer_csv(os.path.join(outdir, "duckdb_full.csv")), "duckdb")]
        ctx["full_agreement_line"] = agreement_line(full_comparisons)
    # kpi with one KPI agrees with kpi running ten (on the cells both have).
    single_bad = {}
    for mname in (SUITE if not a.no_single else []):
        s = read_kpi_csv(os.path.join(outdir, f"kpi_{mname}.csv"))
        common = set(s) & set(k)
        single_bad[mname] = sum(1 for key in common if not agree(s[key], k[key]))
    ctx["single_check"] = ("Each KPI run alone gives the values of the ten-KPI run (on the cells both have)."
                           if not any(single_bad.values()) else f"kpi alone vs ten-KPI run differ: {single_bad}")

    # Every core gives the bytes one thread gives.
    same = []
    for one, par in (("kpi.csv", "kpi_par.csv"), ("kpi_full.csv", "kpi_full_par.csv")):
        pp = os.path.join(outdir, par)
        if os.path.exists(pp):
            same.append(open(os.path.join(outdir, one), "rb").read() == open(pp, "rb").read())
    ctx["par_same"] = all(same) if same else None
    ctx["parallel"] = a.parallel

    m = machine()
    head, dirty = git_state()
    kver = subprocess.run([KPI, "--version"], capture_output=True, text=True).stdout.strip() or "kpi"
    toml_first = open(os.path.join(data, "kpi.toml")).readline().strip()
    gen = re.search(r"`(kpi generate[^`]*)`", toml_first)
    sizes = []
    for t in ("tickets", "messages", "surveys"):
        sizes.append(f"{row_count(data_dir, t, a.format):,} {t}")
    ctx.update({
        "format_name": "Parquet" if a.format == "parquet" else "CSV",
        "scale": a.scale, "sizes": ", ".join(sizes) + " (the tables the ten KPIs read)",
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), "machine": m,
        "command": a.command or f"bench/run --scale {a.scale}",
        "generate": a.generate or (gen.group(1) if gen else "?"),
        "kpi_version": kver.replace("kpi ", ""), "head": head, "dirty": dirty,
        "duckdb_version": ctx["duckdb"][0]["version"] if ctx["duckdb"] else "–",
        "polars_version": ctx["polars"][0]["version"] if ctx["polars"] else "–",
        "python": platform.python_version(), "threads": a.threads, "loadavg": la, "reps": a.reps,
        "cells": len(k), "probes_ok": probes.ok, "probes_why": probes.why,
        "elapsed": time.perf_counter() - started,
    })
    if ctx["full"]:
        fk = read_kpi_csv(os.path.join(outdir, "kpi_full.csv"))
        ctx["full_n"] = len({key[2] for key in fk})
        by_why = {}
        for i, why in ctx["full"][0]["skipped"]:
            by_why.setdefault(why, []).append(i)
        ctx["full_skipped"] = "; ".join(f"{', '.join(ids)} ({why})" for why, ids in by_why.items()) or "none"

    section = render(ctx)
    print(section)
    for c in comparisons + full_comparisons:
        for mn, mm in c["metrics"].items():
            if mm["bad"]:
                print(f"\n{c['peer']} disagrees on {mn}: {mm['bad']} of {mm['cells']}; e.g. {mm['examples']}")
        if c["n_only_kpi"] or c["n_only_peer"]:
            print(f"\n{c['peer']}: cells only in kpi: {c['only_kpi']}; only in {c['peer']}: {c['only_peer']}")
    with open(os.path.join(outdir, "raw.json"), "w") as fh:
        json.dump({k_: v for k_, v in ctx.items() if k_ != "machine"} | {"machine": m}, fh, default=str, indent=1)
    log(f"result files and raw timings: {outdir}")
    if not a.no_md:
        write_md(a.md, a.scale, section)
        log(f"wrote the {a.scale} figures into {a.md}")
    ok = all(c["ok"] for c in comparisons + full_comparisons) and not any(single_bad.values()) and ctx["par_same"] is not False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
