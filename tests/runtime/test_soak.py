"""Soak: resident memory flat and outputs unchanged over many runs of the reference engine in one session.

The 100,000-run test is marked slow (``make soak`` runs it and the 1,000,000-run soak); the short one runs in
``make test`` and checks the same contract on 3,000 runs."""
from __future__ import annotations

import sys

import pytest

from wayvert.benchmark.soak import DEFAULT_ENGINE, soak

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")


def test_short_soak_keeps_memory_flat_and_outputs_identical():
    r = soak(DEFAULT_ENGINE, 3000, warmup=300, sample_every=250)
    assert r.identical
    assert r.growth_kib <= 1024, r


@pytest.mark.slow
def test_100k_runs_keep_memory_flat_within_1_mib_and_outputs_identical():
    r = soak(DEFAULT_ENGINE, 100_000, warmup=1000, sample_every=1000)
    assert r.identical
    assert r.growth_kib <= 1024, r
