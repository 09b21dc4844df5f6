"""Benchmark: streaming transactions XML files vs. plain baselines.

Writes ``--count`` receipts (default 1,000,000; each with 3 lines, one card payment and a
discount) as Voyado transactions files of 20,000 receipts in a temporary folder, and
prints elapsed time, records/s and memory at 10k, 100k and 1M records (and at the end).

Variants, each in its own process so peak RSS is comparable:
- ``stream``: ``fallback.xmlfiles.write_batches`` (lxml incremental writer);
- ``tree``: the same documents built as one lxml tree per file, then serialised;
- ``jsonl``: ``json.dumps`` one line per receipt (a floor for the record loop).

Memory: ``rss_peak_mb`` is the process's peak resident set (ru_maxrss) minus the value
before writing; ``--tracemalloc`` adds Python's allocation peak (slow; C memory in lxml is
not seen by tracemalloc, RSS is). Usage::

    .venv/bin/python bench/xml_write.py --count 200000

The baselines stop at ``--baseline-count`` (default 200,000) to keep the run short; their
memory is already at its plateau after one file.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from fallback.xmlfiles.records import render_receipt
from fallback.xmlfiles.writers import MAX_RECORDS_PER_FILE, TRANSACTIONS_NAMESPACE, write_batches

CHECKPOINTS = (10_000, 100_000, 1_000_000)
VARIANTS = ("stream", "tree", "jsonl")


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


def receipts(count: int, report: Any) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield receipt(n)
        report(n + 1)


def _tree_files(records: Iterator[dict[str, Any]], folder: Path) -> None:
    """Baseline: one lxml tree per file of 20,000, serialised at the end of each file."""

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


def run_variant(variant: str, count: int, use_tracemalloc: bool) -> None:
    """Child process: run one variant and print one JSON line per checkpoint."""
    if use_tracemalloc:
        tracemalloc.start()
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    checkpoints = {c for c in CHECKPOINTS if c < count} | {count}
    started = time.perf_counter()

    def report(done: int) -> None:
        if done in checkpoints:
            elapsed = time.perf_counter() - started
            row = {
                "variant": variant,
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
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        print(
            json.dumps(
                {"variant": variant, "files": len(list(folder.iterdir())), "size_mb": round(size_mb, 1)}
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS)
    )
    parser.add_argument(
        "--baseline-count",
        type=int,
        default=200_000,
        help="records for the tree/jsonl baselines (capped at --count)",
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report Python's allocation peak (slow)"
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant in this process
    args = parser.parse_args()
    if args.variant:
        run_variant(args.variant, args.count, args.tracemalloc)
        return
    print(
        f"{'variant':<8} {'records':>9} {'seconds':>8} {'rec/s':>8} {'rss peak MB':>12}"
        + (f" {'tracemalloc MB':>15}" if args.tracemalloc else "")
    )
    for variant in args.variants.split(","):
        count = args.count if variant == "stream" else min(args.count, args.baseline_count)
        command = [sys.executable, __file__, "--variant", variant, "--count", str(count)]
        if args.tracemalloc:
            command.append("--tracemalloc")
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        for line in child.stdout.splitlines():
            row = json.loads(line)
            if "files" in row:
                print(f"{variant:<8} wrote {row['files']} file(s), {row['size_mb']} MB")
                continue
            extra = f" {row['tracemalloc_peak_mb']:>15}" if args.tracemalloc else ""
            print(
                f"{variant:<8} {row['records']:>9} {row['seconds']:>8} {row['records_per_s']:>8} "
                f"{row['rss_peak_mb']:>12}{extra}"
            )


if __name__ == "__main__":
    main()
