"""Benchmark: streaming transactions XML files against a JSON-lines loop over the same records.

Each run writes ``--count`` receipts (default 200,000; ``--full`` for 1,000,000; each receipt has
3 lines, one card payment and a discount) in every variant, each variant in its own process so
that peak memory is comparable, and the variants alternate so that a busy machine slows all alike:

- ``stream``: ``fallback.xmlfiles.write_batches`` (files of 20,000 receipts), then one of its
  files validated against the XSD with ``validate_file`` (timed apart: the product validates every
  file before upload, ``fallback.outbox``);
- ``jsonl``: ``json.dumps`` one line per receipt, the floor for a loop over the same records;
- ``tree`` (only with ``--variants``): the same documents built as one lxml tree per file, then
  serialised; its memory grows with the file, which is what streaming avoids.

Printed: per run and variant, records/s and the peak resident memory above the process's own before
writing (``ru_maxrss``) at 10k, 100k and 1M records; then the medians over ``--runs``, the ratio
stream/jsonl and the validation rate. ``--tracemalloc`` adds Python's allocation peak (slow; C
memory in lxml is not seen by tracemalloc, RSS is). Usage::

    .venv/bin/python -m bench.xml_write [--full] [--runs 3] [--count 200000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from lxml import etree

from fallback.xmlfiles import validate_file
from fallback.xmlfiles.records import render_receipt
from fallback.xmlfiles.writers import MAX_RECORDS_PER_FILE, TRANSACTIONS_NAMESPACE, write_batches

DEFAULT_COUNT: Final = 200_000
FULL_COUNT: Final = 1_000_000
DEFAULT_RUNS: Final = 3
CHECKPOINTS: Final = (10_000, 100_000, 1_000_000)
VARIANTS: Final = ("stream", "jsonl", "tree")
DEFAULT_VARIANTS: Final = ("stream", "jsonl")
TARGET_RECORDS_PER_S: Final = 25_000  # issue 11: at 1,000,000 receipts, memory flat
MAX_GROWTH_MB: Final = 150.0
ROOT: Final = Path(__file__).resolve().parents[1]

Row = dict[str, Any]


def receipt(n: int) -> dict[str, Any]:
    lines: list[dict[str, Any]] = [
        {
            "type": "PURCHASE",
            "sku": f"73{n % 100_000:06d}{i}",
            "quantity": 1 + i,
            "grossPaidPrice": Decimal("199.00") * (1 + i),
            "taxAmount": Decimal("39.80") * (1 + i),
            "taxPercent": Decimal("25.00"),
            "articleNumber": f"A{n % 5000:05d}{i}",
            "articleName": "Stickad tröja V-neck",
            "articleGroup": "Knitwear",
            "discounts": [{"value": Decimal("20.00"), "type": "promotion", "description": "3 för 2"}]
            if i == 0
            else [],
        }
        for i in range(3)
    ]
    total: Decimal = sum((line["grossPaidPrice"] for line in lines), Decimal(0))
    return {
        "contact": {"matchKey": f"customer{n % 250_000}@example.com", "matchKeyType": "email"},
        "uniqueReceiptId": f"pos-600-{n:09d}",
        "receiptNumber": str(n),
        "createdDate": "2026-11-24T10:15:00+01:00",
        "storeExternalId": "600",
        "currency": "SEK",
        "totalGrossPrice": total,
        "paymentMethods": [
            {"type": "card", "value": total, "extraData": [{"name": "cardIssuer", "value": "ICA Banken"}]}
        ],
        "items": lines,
    }


def receipts(count: int, report: Callable[[int], None]) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield receipt(n)
        report(n + 1)


def _tree_files(records: Iterator[dict[str, Any]], folder: Path) -> None:
    """One lxml tree per file of 20,000, serialised at the end of each file."""

    def build(parent: etree._Element, node: Any) -> None:
        tag, body, attributes = node
        element = etree.SubElement(parent, f"{{{TRANSACTIONS_NAMESPACE}}}{tag}", attributes or {})
        if isinstance(body, str):
            element.text = body
        else:
            for child in body:
                build(element, child)

    def flush(root: etree._Element, seq: int) -> None:
        etree.ElementTree(root).write(
            str(folder / f"tree_{seq}_transactions.xml"), encoding="utf-8", xml_declaration=True
        )

    nsmap: Any = {None: TRANSACTIONS_NAMESPACE}  # lxml-stubs lack the default-namespace key
    root, seq = etree.Element(f"{{{TRANSACTIONS_NAMESPACE}}}transactions", nsmap=nsmap), 1
    for record in records:
        build(root, render_receipt(record))
        if len(root) == MAX_RECORDS_PER_FILE:
            flush(root, seq)
            root, seq = etree.Element(root.tag, nsmap=nsmap), seq + 1
    if len(root):
        flush(root, seq)


def _jsonl(records: Iterator[dict[str, Any]], folder: Path) -> None:
    with (folder / "receipts.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, default=str, ensure_ascii=False))
            out.write("\n")


def _validation(folder: Path) -> Row:
    """Validate the first file of a stream run (a whole one of 20,000 when there are several)."""
    first = min(folder.iterdir())
    records = min(MAX_RECORDS_PER_FILE, first.read_bytes().count(b"<receipt>"))
    started = time.perf_counter()
    problems = validate_file(first, "transactions")
    elapsed = time.perf_counter() - started
    if problems:
        raise SystemExit(f"{first.name} is not valid: {problems[:3]}")
    return {"validated": records, "validate_records_per_s": round(records / elapsed)}


def run_variant(variant: str, count: int, use_tracemalloc: bool) -> None:
    """Child process: run one variant and print one JSON line per checkpoint, then a summary line."""
    if use_tracemalloc:
        tracemalloc.start()
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    checkpoints = {c for c in CHECKPOINTS if c < count} | {count}
    started, cpu_started = time.perf_counter(), time.process_time()

    def report(done: int) -> None:
        if done in checkpoints:
            elapsed = time.perf_counter() - started
            row: Row = {
                "records": done,
                "seconds": round(elapsed, 2),
                "records_per_s": round(done / elapsed),
                "rss_peak_mb": round(
                    (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kb) / 1024, 1
                ),
            }
            if use_tracemalloc:
                row["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            print(json.dumps(row), flush=True)

    with tempfile.TemporaryDirectory(prefix=f"xmlbench-{variant}-") as tmp:
        folder = Path(tmp)
        if variant == "stream":
            write_batches(receipts(count, report), folder, "transactions", seq_prefix="bench")
        elif variant == "tree":
            _tree_files(receipts(count, report), folder)
        else:
            _jsonl(receipts(count, report), folder)
        # Up to the last file closed (flushed and, for stream, fsynced): the whole cost of writing.
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        summary: Row = {
            "records": count,
            "seconds": round(seconds, 2),
            "records_per_s": round(count / seconds),
            "records_per_cpu_s": round(count / cpu_seconds),
            "rss_peak_mb": round(
                (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kb) / 1024, 1
            ),
            "files": len(list(folder.iterdir())),
            "size_mb": round(sum(p.stat().st_size for p in folder.iterdir()) / 2**20, 1),
        }
        if variant == "stream":
            summary |= _validation(folder)
        print(json.dumps(summary), flush=True)


def _child(variant: str, count: int, use_tracemalloc: bool) -> tuple[list[Row], Row]:
    command = [sys.executable, "-m", "bench.xml_write", "--variant", variant, "--count", str(count)]
    if use_tracemalloc:
        command.append("--tracemalloc")
    child = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    rows = [json.loads(line) for line in child.stdout.splitlines()]
    return rows[:-1], rows[-1]


def _print_run(run: int, variant: str, checkpoints: list[Row], summary: Row, use_tracemalloc: bool) -> None:
    rss = " / ".join(f"{row['rss_peak_mb']:.1f}" for row in checkpoints)
    line = (
        f"{run:>3} {variant:<7} {summary['records']:>9} {summary['seconds']:>8.2f} "
        f"{summary['records_per_s']:>8} {summary['records_per_cpu_s']:>8} "
        f"{summary['rss_peak_mb']:>8.1f}   {rss:<20} "
        f"{summary['files']:>3} files {summary['size_mb']:>6.1f} MB"
    )
    if "validate_records_per_s" in summary:
        line += f"   validate {summary['validate_records_per_s']}/s"
    if use_tracemalloc:
        line += f"   tracemalloc {checkpoints[-1].get('tracemalloc_peak_mb')} MB"
    print(line, flush=True)


def _thousands(count: int) -> str:
    return f"{count // 1_000_000}M" if count % 1_000_000 == 0 else f"{count / 1000:g}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="receipts per run and variant")
    parser.add_argument("--full", action="store_true", help=f"{FULL_COUNT:,} receipts (the issue's case)")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help="comma-separated subset of " + ",".join(VARIANTS),
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report Python's allocation peak (slow)"
    )
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # internal: one child
    args = parser.parse_args()
    count = FULL_COUNT if args.full else args.count
    if args.variant:
        run_variant(args.variant, count, args.tracemalloc)
        return
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s) {sorted(unknown)}")
    marks = " / ".join(_thousands(c) for c in sorted({c for c in CHECKPOINTS if c < count} | {count}))
    print(f"xml_write: {count:,} receipts per run and variant, {args.runs} run(s), each in its own process")
    print(f"run variant   records  seconds    rec/s  rec/cpu-s  rss MB   rss MB at {marks}")
    results: dict[str, list[Row]] = {v: [] for v in variants}
    for run in range(1, args.runs + 1):
        for variant in variants:
            checkpoints, summary = _child(variant, count, args.tracemalloc)
            results[variant].append(summary)
            _print_run(run, variant, checkpoints, summary, args.tracemalloc)
    _print_medians(results, count)


def _print_medians(results: dict[str, list[Row]], count: int) -> None:
    print(f"\nmedians over {len(next(iter(results.values())))} run(s):")
    rates: dict[str, float] = {}
    cpu_rates: dict[str, float] = {}
    for variant, runs in results.items():
        rates[variant] = statistics.median(run["records_per_s"] for run in runs)
        cpu_rates[variant] = statistics.median(run["records_per_cpu_s"] for run in runs)
        growth = max(run["rss_peak_mb"] for run in runs)
        spread = ", ".join(str(run["records_per_s"]) for run in runs)
        print(
            f"  {variant:<7} {rates[variant]:>9,.0f} records/s   {cpu_rates[variant]:>9,.0f} per CPU-s   "
            f"peak rss growth {growth:.1f} MB   (runs: {spread})"
        )
    if "stream" in rates and "jsonl" in rates:
        print(
            f"  stream/jsonl {rates['stream'] / rates['jsonl']:.2f} "
            f"(per CPU-s {cpu_rates['stream'] / cpu_rates['jsonl']:.2f})"
        )
    if "stream" in results:
        validated = statistics.median(run["validate_records_per_s"] for run in results["stream"])
        print(f"  validate {validated:>8,.0f} records/s   (validate_file, one file per run, timed apart)")
        print(
            f"  target: stream >= {TARGET_RECORDS_PER_S:,}/s at {FULL_COUNT:,} receipts, "
            f"growth < {MAX_GROWTH_MB:.0f} MB"
            + ("" if count >= FULL_COUNT else f" (this run: {count:,}; --full for the target's count)")
        )


if __name__ == "__main__":
    main()
