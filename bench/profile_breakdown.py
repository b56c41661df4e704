"""Reads `perf script -F sym` output (call stacks from a frame-pointer build of
kpi, see bench/profile) on stdin and prints where the samples went: each
sample is put in the first category, in the order below, that one of its
frames matches (innermost frame first for the 'self' categories)."""

import collections
import re
import sys

# (category, regex on a frame's symbol), searched from the outermost frame
# in: the first match names the phase.
PHASES = [
    ("startup: definitions, type check", r"Project::load_with_plugins|Project::from_toml"),
    ("load: read_from (files -> columns)", r"kpi_engine::read::read_from"),
    ("compute: relation index (Exec::parents)", r"Exec::parents|Exec::follow"),
    ("compute: key columns into their parent's dictionary (share_key_dictionaries)", r"share_key_dictionaries"),
    ("compute: group keys (groups.rs)", r"GroupKeys::|kpi_engine::groups::|mark_seen"),
    ("compute: period of each row / rows open at an instant", r"Exec::select|period::bucket|open_at"),
    ("compute: prev/next neighbours (Exec::window)", r"Exec::compute_window|Exec::window_order"),
    ("compute: aggregates per parent row (child_aggregate)", r"child_aggregate"),
    ("compute: expression evaluation (Exec::eval)", r"Exec::eval"),
    ("compute: accumulation (update_batch, merge)", r"Accumulator::update_batch|Accumulator::merge|Accumulator::evaluate"),
    ("output: render", r"ResultTable::render"),
    ("compute: rest of Project::run", r"Project>::run"),
]
# Inside load, what the innermost engine frames are doing.
LOAD_PARTS = [
    ("Parquet pages and values (parquet crate, parquet.rs)", r"parquet::|kpi_engine::parquet"),
    ("string dictionary (StrBuilder::push)", r"StrBuilder::push"),
    ("timestamp parsing (time.rs, chrono)", r"parse_timestamp|TimestampParser|resolve_local|parse_rfc3339|chrono"),
    ("other value parsing (parse_text)", r"ColBuilder::parse_text"),
    ("CSV records, UTF-8 checks, trimming, pushing values (csv_core, Reader::csv)", r"csv_core|csv::reader|Reader::csv|Capped|read_byte_record"),
]
EVAL_PARTS = [
    ("typed kernels (fast.rs)", r"kpi_engine::fast::"),
    ("per-value kernels, gather (kernels.rs)", r"kernels::"),
]


def main():
    stacks, cur = [], []
    for line in sys.stdin:
        line = line.strip()
        if not line:
            if cur:
                stacks.append(cur)
            cur = []
            continue
        parts = line.split(None, 1)
        cur.append(parts[1] if len(parts) == 2 else parts[0])
    if cur:
        stacks.append(cur)
    total = len(stacks)
    phase = collections.Counter()
    sub = collections.defaultdict(collections.Counter)
    for s in stacks:
        outer = list(reversed(s))  # outermost first
        name = "malloc/free and other libc (call chain lost: glibc has no frame pointers)"
        for cat, rx in PHASES:
            if any(re.search(rx, f) for f in outer):
                name = cat
                break
        phase[name] += 1
        parts = LOAD_PARTS if name.startswith("load") else EVAL_PARTS if "Exec::eval" in name else None
        if parts:
            for cat, rx in parts:
                if any(re.search(rx, f) for f in s):
                    sub[name][cat] += 1
                    break
            else:
                sub[name]["other (allocation, copying, page faults)"] += 1
    print(f"{total} samples")
    for name, n in phase.most_common():
        print(f"{100 * n / total:5.1f}%  {name}")
        for cat, m in sub[name].most_common():
            print(f"        {100 * m / total:5.1f}%  {cat}")


if __name__ == "__main__":
    main()
