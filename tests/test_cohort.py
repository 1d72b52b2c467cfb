"""The cohort's image loader: what it keeps in memory."""

from __future__ import annotations

import numpy as np

from benchmark.cohort import Cohort


def test_image_cache_is_bounded_in_bytes_and_returns_the_same_pixels(tabular_cohort,
                                                                     monkeypatch):
    # 48 px images + masks are 4.5 KiB each; a 16 KiB budget holds three of them
    monkeypatch.setenv("FLB_IMAGE_CACHE_MB", str(16 / 1024))
    cohort = Cohort.load(tabular_cohort)
    ids = list(cohort.images.index)
    first = {i: cohort.load_image(i).pixels.copy() for i in ids}
    cache = cohort._loader._cache
    assert 0 < len(cache) <= 3 and cache.currsize <= cache.maxsize
    assert set(cache) == set(ids[-len(cache):])  # least recently used went first
    for i in ids[:5]:  # evicted images are read again, identically
        np.testing.assert_array_equal(cohort.load_image(i).pixels, first[i])
