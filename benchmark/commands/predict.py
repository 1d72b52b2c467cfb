"""``python -m benchmark predict --model RUN_OR_FILE IMAGES...``: GA for new images."""

from __future__ import annotations

import argparse

HELP = "Estimate GA for new images with a method trained and saved by a run."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="run folder, cell folder, or the cell's model/ folder (or a file "
                        "in it)")
    parser.add_argument("--method", help="which saved method of the run (label or name)")
    parser.add_argument("images", nargs="+",
                        help="image files (PNG/JPEG/TIFF/DICOM/NIfTI), or one dataset folder")
    parser.add_argument("--mask", nargs="+", help="one lung mask per image (optional)")
    parser.add_argument("--spacing", nargs="+", type=float, metavar="MM",
                        help="mm per pixel: one for all, or one per image (DICOM/NIfTI: "
                        "default from the file)")
    parser.add_argument("--frame", type=int, help="frame index (0-based) for cine loops")
    parser.add_argument("--out", help="write the predictions to this CSV file")
    parser.add_argument("--lung-maps", metavar="DIR",
                        help="write each image's lung map and an overlay PNG here")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from benchmark.ingest.predict import (
        load_method,
        predict_images,
        resolve_model,
        view_from_dataset,
        view_from_files,
        write_lung_maps,
    )
    from benchmark.io import InputError

    saved = resolve_model(Path(args.model), args.method)
    method = load_method(saved, args.device)
    inputs = [Path(p) for p in args.images]
    if len(inputs) == 1 and inputs[0].is_dir():
        if args.mask or args.spacing or args.frame is not None:
            raise InputError("--mask/--spacing/--frame apply to image files; a dataset folder "
                             "gives them in its manifest")
        view, given = view_from_dataset(inputs[0])
    else:
        view, given = view_from_files(inputs, args.mask, args.spacing, args.frame)
    table = predict_images(method, view, saved.label)
    if given is not None:
        table.insert(2, "ga_given_weeks", table["image_id"].map(given).to_numpy())
    print(f"model: {saved.label} ({saved.model_dir})")
    print(table.to_string(index=False))
    own = table["lung_map"].str.startswith("own").sum()
    if own:
        print(f"{own} image(s) had no traced mask: {saved.label} used its own lung map")
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"predictions written to {args.out}")
    if args.lung_maps:
        written = write_lung_maps(method, view, Path(args.lung_maps))
        print(f"{len(written)} lung-map overlay(s) written to {args.lung_maps}")
    return 0
