"""File-level validation: read every image and mask once and report what is wrong.

Per file: readable, frames, masks (size, empty, outside the crop), colour/bit depth,
spacing vs. the file's own calibration and vs. the image's field of view, identifying
DICOM fields.  Across files: the same image under two patients (exact bytes: error;
near-identical pixels by perceptual hash, ``imagehash``: warning) — such a pair can sit in
train and test at once.
"""

from __future__ import annotations

import hashlib

import numpy as np

from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import Manifest
from benchmark.data.ingest.patch_room import check_patch_room
from benchmark.data.ingest.records import ImageSpec, RowData, load_row
from benchmark.data.problems import (
    ERROR,
    FOV_IMPOSSIBLE_MM,
    FOV_PLAUSIBLE_MM,
    MIN_IMAGE_PX,
    NEAR_DUPLICATE_BITS,
    WARNING,
    Report,
    rel_path,
    strip_root,
)

#: how much of the frame sets the perceptual hash (64 bits = 8x8 DCT)
_HASH_SIZE = 8


def _read(manifest: Manifest, i: int, spec: ImageSpec, report: Report) -> RowData | None:
    try:
        return load_row(spec)
    except InputError as exc:
        text = strip_root(manifest, str(exc))
        text = text[len(spec.where) + 2 :] if text.startswith(spec.where) else text
        report.add(ERROR, exc.code, spec.where, text, exc.fix, image_rows=[i])
        return None


def _check_conversions(spec: ImageSpec, data: RowData, rel: str, report: Report) -> None:
    image = data.image
    if "RGB" in image.notes:
        report.add(
            WARNING,
            "rgb",
            spec.where,
            f"{rel} is RGB (grey content): converted to grey by channel mean",
            "nothing to do; export grey to silence this",
        )
    if "colour" in image.notes:
        report.add(
            WARNING,
            "colour",
            spec.where,
            f"{rel} has colour content (Doppler or coloured overlay): it becomes grey",
            "crop the overlay away or export B-mode",
        )
    for note in image.notes:
        if note.endswith("-bit") and note != "8-bit":
            report.add(
                WARNING,
                "bit-depth",
                spec.where,
                f"{rel} is {note}: scaled to 8-bit by "
                "its own min-max, so brightness is not comparable across images",
                "export 8-bit images with the scanner's display mapping if available",
            )
    if "anisotropic" in image.notes and image.spacing_rc_mm:
        r, c = image.spacing_rc_mm
        report.add(
            WARNING,
            "anisotropic",
            spec.where,
            f"{rel} has row/column spacing {r:.4g}/{c:.4g} mm: their mean is used",
            "resample to square pixels",
        )
    if "burned-in annotation" in image.notes:
        report.add(
            WARNING,
            "burned-in",
            spec.where,
            f"{rel} declares burned-in annotation: "
            "pixels may show identifying text (lung-map figures show pixels)",
            "crop the text area away (crop box) before sharing figures",
        )


def _check_size(i: int, spec: ImageSpec, data: RowData, rel: str, report: Report) -> bool:
    """An image too small to be a frame is an error (it would get a fallback estimate)."""
    height, width = data.image.full_shape
    if min(height, width) >= MIN_IMAGE_PX:
        return True
    report.add(
        ERROR,
        "image-too-small",
        spec.where,
        f"{rel} is {width}x{height} pixels: too "
        f"small to be an ultrasound frame (at least {MIN_IMAGE_PX} on a side)",
        "export the full frame, not a thumbnail or a placeholder",
        image_rows=[i],
    )
    return False


def _check_spacing(i: int, spec: ImageSpec, data: RowData, report: Report) -> None:
    image = data.image
    if (
        spec.spacing_mm is not None
        and image.spacing_mm is not None
        and not np.isclose(spec.spacing_mm, image.spacing_mm, rtol=0.05)
    ):
        report.add(
            WARNING,
            "spacing-disagree",
            spec.where,
            f"manifest pixel_spacing_mm "
            f"{spec.spacing_mm:g} differs from the file's {image.spacing_mm:.4g} "
            f"({image.spacing_source}); the manifest is used",
            "check which is right; empty the manifest value to use the file's",
        )
    if data.spacing_mm is None:
        return  # reported by the table checks (spacing-missing)
    fov = data.spacing_mm * max(image.full_shape)
    if fov > FOV_IMPOSSIBLE_MM:
        height, width = image.full_shape
        report.add(
            ERROR,
            "spacing-impossible",
            spec.where,
            f"pixel spacing "
            f"{data.spacing_mm:g} mm/pixel makes the {width}x{height} image {fov:.0f} mm "
            f"across; no ultrasound frame is over {FOV_IMPOSSIBLE_MM:g} mm",
            "check for a decimal or unit slip (cm vs mm, pixels per mm) in pixel_spacing_mm",
            image_rows=[i],
        )
    elif not FOV_PLAUSIBLE_MM[0] <= fov <= FOV_PLAUSIBLE_MM[1]:
        height, width = image.full_shape
        # a warning: a cohort-wide slip has no outlier to compare with, and test or
        # cropped images can be small; a single image's slip is an error (spacing-outlier)
        report.add(
            WARNING,
            "spacing-fov",
            spec.where,
            f"pixel spacing {data.spacing_mm:g} "
            f"mm/pixel makes the {width}x{height} image {fov:.0f} mm across; a fetal "
            f"thorax view is {FOV_PLAUSIBLE_MM[0]:g}-{FOV_PLAUSIBLE_MM[1]:g} mm",
            "check for a decimal or unit slip (cm vs mm, pixels per mm) in pixel_spacing_mm",
        )


def _check_mask(i: int, spec: ImageSpec, data: RowData, paths: str, report: Report) -> None:
    total = int(data.full_mask.sum())
    inside = int(data.mask.sum()) if data.mask is not None else 0
    if total == 0:
        report.add(
            ERROR,
            "mask-empty",
            spec.where,
            f"lung mask {paths} is empty",
            "trace the lungs, or remove lung_mask_path to mark it untraced",
            image_rows=[i],
        )
    elif inside == 0:
        report.add(
            ERROR,
            "mask-outside-crop",
            spec.where,
            f"lung mask {paths} lies entirely outside the crop box",
            "fix the crop box or the mask",
            image_rows=[i],
        )
    elif inside < total:
        report.add(
            WARNING,
            "mask-crop",
            spec.where,
            f"{100 * (1 - inside / total):.0f}% of "
            f"lung mask {paths} lies outside the crop box and is cut off",
            "widen the crop box",
        )


def _check_dicom_ids(manifest: Manifest, i: int, spec: ImageSpec, report: Report) -> None:
    """Patient ids in outputs must be pseudonymous: refuse ids copied from the file header.

    The identifying values themselves are never printed.
    """
    from benchmark.data.privacy import DIRECT_IDENTIFIERS, identifying_values

    values = identifying_values(spec.image_path, DIRECT_IDENTIFIERS)
    row = manifest.images.iloc[i]
    ids = {str(row.get(c)) for c in ("patient_id", "image_id") if row.get(c)}
    for keyword, value in values.items():
        if value in ids or value.replace("^", " ").strip() in ids:
            report.add(
                ERROR,
                "phi-id",
                spec.where,
                f"an id in this row equals the DICOM "
                f"{keyword} of its file: it would appear in every result",
                "use pseudonymous ids (e.g. P001) in the manifest",
                image_rows=[i],
            )
        rel = rel_path(manifest, spec.image_path)
        if len(value) >= 3 and value in rel:
            report.add(
                WARNING,
                "phi-path",
                spec.where,
                f"the file path contains the DICOM {keyword}",
                "rename files to pseudonymous names before sharing reports",
            )


def _perceptual_hash(pixels: np.ndarray) -> np.ndarray:
    import imagehash
    from PIL import Image

    # a box-filter shrink first: phash's own Lanczos resize of a full frame was 2/3 of the
    # validation time; pHash keeps only the lowest 8x8 frequencies of a 32x32 image anyway
    small = Image.fromarray(pixels).resize((4 * _HASH_SIZE * 2,) * 2, Image.Resampling.BOX)
    return imagehash.phash(small, hash_size=_HASH_SIZE).hash.ravel()


def _check_duplicates(
    manifest: Manifest, found: dict[int, tuple[str, np.ndarray]], report: Report
) -> None:
    """The same image under two patients: exact bytes (error), near-identical (warning)."""
    patients = manifest.images["patient_id"]
    rows = sorted(found)
    by_digest: dict[str, list[int]] = {}
    for i in rows:
        by_digest.setdefault(found[i][0], []).append(i)
    exact = set()
    for same in by_digest.values():
        if len({patients.iat[i] for i in same}) < 2:
            continue  # one patient's own repeat is not a leak across the split
        exact.update(same)
        ids = ", ".join(
            f"{manifest.images['image_id'].iat[i]} (patient {patients.iat[i]})" for i in same
        )
        report.add(
            ERROR,
            "duplicate-image",
            _where_rows(manifest, same),
            f"the same image file content is used for different patients: {ids}",
            "keep the image under its own patient only; a copy can sit in train and test at once",
            image_rows=same,
        )
    for cluster in look_alike_clusters([found[i][1] for i in rows]):
        members = [rows[k] for k in cluster]
        owners = {str(patients.iat[i]) for i in members}
        if len(owners) < 2 or set(members) <= exact:
            continue  # one patient's own repeats; or already an exact-copy error
        report.linked_patients.append(tuple(sorted(owners)))
        ids = ", ".join(
            f"{manifest.images['image_id'].iat[i]} (patient {patients.iat[i]})" for i in members
        )
        report.add(
            WARNING,
            "near-duplicate",
            _where_rows(manifest, members),
            f"{len(members)} images of {len(owners)} patients look alike (perceptual "
            f"hash at most {NEAR_DUPLICATE_BITS} of {_HASH_SIZE**2} bits apart): {ids}",
            "check they are not one frame exported under several patients; the split "
            "keeps these patients on one side (docs/byo-data.md)",
        )


def look_alike_clusters(hashes: list[np.ndarray]) -> list[list[int]]:
    """Groups of images linked by chains of look-alike pairs (perceptual hash at most
    ``NEAR_DUPLICATE_BITS`` apart): one message and one split group per cluster, not one per
    pair (14 copies of a frame are one cluster, not 91 pairs).  Indices into ``hashes``."""
    if len(hashes) < 2:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    bits = np.stack(hashes)
    first, second = [], []
    for a in range(len(bits) - 1):
        close = np.flatnonzero((bits[a + 1 :] != bits[a]).sum(axis=1) <= NEAR_DUPLICATE_BITS)
        first += [a] * len(close)
        second += list(close + a + 1)
    if not first:
        return []
    n = len(bits)
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for k, label in enumerate(labels):
        groups.setdefault(int(label), []).append(k)
    return sorted(g for g in groups.values() if len(g) > 1)


def _where_rows(manifest: Manifest, rows: list[int]) -> str:
    table = manifest.image_where[rows[0]].split(" row ")[0]
    return f"{table} rows " + ", ".join(manifest.image_where[i].split(" row ")[-1] for i in rows)


def _digest(spec: ImageSpec) -> str:
    digest = hashlib.sha256(spec.image_path.read_bytes())
    digest.update(f"frame={spec.frame}".encode())  # two frames of one cine are two images
    return digest.hexdigest()


def check_files(manifest: Manifest, specs: list[tuple[int, ImageSpec]], report: Report) -> Report:
    from tqdm.auto import tqdm

    untraced, found = [], {}
    # progress on a terminal only (disable=None): a large cohort takes a while the first time
    for i, spec in tqdm(
        specs, desc="validating", unit="img", disable=None, leave=False, mininterval=1.0
    ):
        data = _read(manifest, i, spec, report)
        if not spec.mask_paths:
            untraced.append(str(manifest.images.at[i, "image_id"]))
        if data is None:
            continue
        _check_conversions(spec, data, rel_path(manifest, spec.image_path), report)
        if not _check_size(i, spec, data, rel_path(manifest, spec.image_path), report):
            continue
        _check_spacing(i, spec, data, report)
        if data.full_mask is not None:
            paths = ", ".join(rel_path(manifest, p) for p in spec.mask_paths)
            _check_mask(i, spec, data, paths, report)
            check_patch_room(spec, data, paths, report)
        from benchmark.data.ingest.readers import reader_for

        if reader_for(spec.image_path).has_identifying_fields:
            _check_dicom_ids(manifest, i, spec, report)
        found[i] = (_digest(spec), _perceptual_hash(data.image.pixels))
    _check_duplicates(manifest, found, report)
    if untraced:
        shown = ", ".join(untraced[:5]) + (
            f" and {len(untraced) - 5} more" if len(untraced) > 5 else ""
        )
        where = manifest.files[-1].name if manifest.files else manifest.layout
        report.add(
            WARNING,
            "mask-none",
            where,
            f"{len(untraced)} image(s) have no "
            f"lung mask ({shown}): methods that sample the lung predict them by "
            "their documented fallback (docs/methods.md), and no DSC is computed for them",
            "add lung_mask_path (PNG/NIfTI mask, LabelMe or COCO polygons)",
        )
    report.files_checked = True
    return report
