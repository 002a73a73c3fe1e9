"""``mnistkit data status`` and ``mnistkit data import``: which MNIST is here, and importing it."""

from __future__ import annotations

import argparse

from mnistkit.cli import common


def add_to(commands) -> None:
    data = commands.add_parser("data", help="see and import MNIST data", description="See which MNIST data is available and import the original files.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=common.Parser, required=True)
    status = data_commands.add_parser("status", help="what data is available, where, how big")
    status.add_argument("--json", action="store_true", help="print JSON: one object per source")
    status.set_defaults(handler=cmd_data_status)
    imp = data_commands.add_parser("import", help="verify the four MNIST .gz files and prepare them for offline use",
                                   description="Verify the four original MNIST files (size and SHA-256) and prepare the tfds 'mnist' dataset offline, so tfds.load('mnist') and mnistkit work with no network.")
    imp.add_argument("dir", help="folder holding train/t10k images/labels idx .gz files")
    imp.add_argument("--tfds-data-dir", default=None, help="tfds data folder (default: TFDS_DATA_DIR or ~/tensorflow_datasets)")
    imp.set_defaults(handler=cmd_data_import)


def cmd_data_status(args: argparse.Namespace) -> int:
    from mnistkit.data import data_status

    rows = data_status()
    if args.json:
        import json

        print(json.dumps(rows, indent=2, default=str))
        return 0
    console = common.console()
    for row in rows:
        mark = "[green]available[/]" if row["available"] else "[dim]not available[/]"
        used = "  [bold](used by --data auto)[/]" if row.get("auto") else ""
        console.print(f"[bold]{row['source']}[/]: {mark}{used}")
        if row.get("where"):
            console.print(f"  where: {row['where']}", soft_wrap=True)
        if row.get("train"):
            size = f", {row['bytes'] / 1e6:.1f} MB" if row.get("bytes") else ""
            console.print(f"  images: {row['train']:,} train, {row['test']:,} test{size}")
        if row.get("detail"):
            console.print(f"  {row['detail']}")
    return 0


def cmd_data_import(args: argparse.Namespace) -> int:
    from mnistkit.data import import_idx_dir
    from mnistkit.report.terminal import busy

    console = common.console()
    with busy(console, "Checking the four files and preparing the tfds dataset..."):
        import_idx_dir(args.dir, tfds_data_dir=args.tfds_data_dir, notify=console.print)
    return 0
