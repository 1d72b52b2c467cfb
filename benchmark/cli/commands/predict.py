"""``python -m benchmark predict --model RUN_OR_FILE IMAGES...``: GA for new images."""

from __future__ import annotations

import argparse

HELP = "Estimate GA for new images with a method trained and saved by a run."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="run folder, cell folder, or the cell's model/ folder (or a file in it)",
    )
    parser.add_argument("--method", help="which saved method of the run (label or name)")
    parser.add_argument(
        "images",
        nargs="+",
        help="image files (PNG/JPEG/TIFF/DICOM/NIfTI; a cine loop's frame as "
        "FILE:N, 0-based), or one dataset folder",
    )
    parser.add_argument(
        "--mask",
        action="append",
        metavar="MASK",
        help="a lung mask; repeat once per image, in order (optional)",
    )
    parser.add_argument(
        "--spacing",
        type=_spacings,
        metavar="MM[,MM...]",
        help="mm per pixel: one for all, or a comma-separated list with one "
        "per image (DICOM/NIfTI: default from the file)",
    )
    parser.add_argument(
        "--frame", type=int, help="default frame (0-based) for multi-frame files given without :N"
    )
    parser.add_argument("--out", help="write the predictions to this CSV file")
    parser.add_argument(
        "--lung-maps", metavar="DIR", help="write each image's lung map and an overlay PNG here"
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def _spacings(text: str) -> list[float]:
    """One value, never a list of arguments: ``--spacing 0.15 scan1.png`` leaves the images
    alone (``nargs='+'`` once swallowed them)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not mm per pixel (e.g. 0.15, or 0.15,0.2 for one per image)"
        ) from None
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: spacing must be > 0 mm per pixel")
    return values


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from benchmark.data.io import InputError
    from benchmark.execution.predict import (
        NO_LUNG_FOUND,
        load_method,
        predict_images,
        resolve_model,
        view_from_dataset,
        view_from_files,
        write_lung_maps,
    )

    saved = resolve_model(Path(args.model), args.method)
    if saved.note:
        print(saved.note)
    inputs = list(args.images)
    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        if args.mask or args.spacing or args.frame is not None:
            raise InputError(
                "--mask/--spacing/--frame apply to image files; a dataset folder "
                "gives them in its manifest"
            )
        view, given = view_from_dataset(Path(inputs[0]))
    else:
        view, given = view_from_files(inputs, args.mask, args.spacing, args.frame)
    method = load_method(saved, args.device)  # after the inputs passed: errors come first
    table = predict_images(method, view, saved.label)
    if given is not None:
        table.insert(2, "ga_given_weeks", table["image_id"].map(given).to_numpy())
    print(f"model: {saved.label} ({saved.model_dir})")
    print(table.to_string(index=False))
    fallback = table[table["provenance"] != "measured"]
    if len(fallback):
        print(
            f"{len(fallback)} image(s) not measured, predicted by {saved.label}'s documented "
            f"fallback (provenance column): {', '.join(sorted(set(fallback['provenance'])))}"
        )
    if "own_lung_map" in table and (empty := (table["own_lung_map"] == NO_LUNG_FOUND).sum()):
        print(f"{empty} image(s): {saved.label}'s own lung map found no lung (no pixel >= 0.5)")
    flagged = table[table["ga_flag"] != ""]
    if len(flagged):
        print(
            f"WARNING {len(flagged)} estimate(s) outside the accepted GA range "
            f"({', '.join(flagged['image_id'].astype(str))}): kept as estimated, flagged in "
            "ga_flag; check the image and its spacing"
        )
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"predictions written to {args.out}")
    if args.lung_maps:
        written = write_lung_maps(method, view, Path(args.lung_maps))
        print(f"{len(written)} lung-map overlay(s) written to {args.lung_maps}")
    return 0
