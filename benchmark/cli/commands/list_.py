from __future__ import annotations

import argparse

NAME = "list"
HELP = "List methods (with availability) and dataset sources."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pattern", nargs="*", default=["*"], help="glob(s), e.g. 'unet*'")


def main(args: argparse.Namespace) -> int:
    from benchmark.contract.registry import list_methods, method_info
    from benchmark.data.sources import list_datasets

    print("methods:")
    for name in list_methods(args.pattern):
        try:
            info = method_info(name)
        except LookupError as exc:
            print(f"  ✗ {name:<28} unavailable: {exc}")
            continue
        if info.available:
            grid = ", ".join(f"{k}={v}" for k, v in info.parameters.items() if len(v) > 1)
            # declared roles and capabilities (docs/methods.md), so a reader sees which
            # rows are controls without reading the code
            tags = [f"role: {info.role}"] if info.role else []
            tags += [f"control of {info.control_of}"] if info.control_of else []
            tags += list(info.capabilities)
            print(
                f"  ✓ {name:<28} {info.summary}"
                + (f"  [grid: {grid}]" if grid else "")
                + (f"  ({'; '.join(tags)})" if tags else "")
            )
        else:
            print(f"  ✗ {name:<28} unavailable: {info.reason}")
    print("datasets:")
    for name, summary in list_datasets().items():
        print(f"  • {name:<28} {summary}")
    print("  • PATH                         any folder in the dataset format (docs/data-format.md)")
    return 0
