from __future__ import annotations

import argparse

NAME = "list"
HELP = "List methods (with availability) and dataset sources."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pattern", nargs="*", default=["*"], help="glob(s), e.g. 'unet*'")


def main(args: argparse.Namespace) -> int:
    from benchmark.registry import list_methods, method_info
    from benchmark.sources import list_datasets

    print("methods:")
    for name in list_methods(args.pattern):
        try:
            info = method_info(name)
        except LookupError as exc:
            print(f"  ✗ {name:<28} unavailable: {exc}")
            continue
        if info.available:
            grid = ", ".join(f"{k}={v}" for k, v in info.parameters.items() if len(v) > 1)
            print(f"  ✓ {name:<28} {info.summary}" + (f"  [grid: {grid}]" if grid else ""))
        else:
            print(f"  ✗ {name:<28} unavailable: {info.reason}")
    print("datasets:")
    for name, summary in list_datasets().items():
        print(f"  • {name:<28} {summary}")
    print("  • PATH                         any folder in the dataset format "
          "(docs/data-format.md)")
    return 0
