"""The cohort's image loader: what it keeps in memory."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from benchmark.data.cohort import Cohort


@pytest.fixture
def small_cache(tabular_cohort, monkeypatch):
    # 48 px images + masks are 4.5 KiB each; a 16 KiB budget holds three of them
    monkeypatch.setenv("FLB_IMAGE_CACHE_MB", str(16 / 1024))
    return Cohort.load(tabular_cohort)


def test_image_cache_is_bounded_in_bytes_and_returns_the_same_pixels(small_cache):
    ids = list(small_cache.images.index)
    first = {i: small_cache.load_image(i).pixels.copy() for i in ids}
    cache = small_cache._loader._cache
    assert 0 < len(cache) <= 3 and cache.currsize <= cache.maxsize
    for i in ids[:5]:  # evicted images are read again, identically
        np.testing.assert_array_equal(small_cache.load_image(i).pixels, first[i])


def test_image_cache_evicts_the_least_recently_used(small_cache):
    a, b, c, d = list(small_cache.images.index)[:4]
    for image_id in (a, b, c, a, d):  # a was used again after b: b goes, a stays
        small_cache.load_image(image_id)
    assert set(small_cache._loader._cache) == {a, c, d}


def test_image_loader_is_safe_to_share_between_threads(small_cache):
    # GPU cells run as threads of one process over one loader; switching threads every
    # microsecond makes an unguarded LRU bookkeeping race show up within a few hundred reads
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ids = list(small_cache.images.index) * 20
        with ThreadPoolExecutor(8) as pool:
            records = list(pool.map(small_cache.load_image, ids))
    finally:
        sys.setswitchinterval(old)
    assert [r.image_id for r in records] == ids
    assert small_cache._loader._cache.currsize <= small_cache._loader._cache.maxsize


def test_bad_cache_size_is_a_one_line_error(tabular_cohort, monkeypatch):
    monkeypatch.setenv("FLB_IMAGE_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="FLB_IMAGE_CACHE_MB must be a number"):
        Cohort.load(tabular_cohort)
