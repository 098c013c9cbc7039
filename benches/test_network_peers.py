"""Two networks, each beside its peers in one process, interleaved (issue 12, item 6):

* "large backbone": ``benches/large_backbone.py``, the student's signature with a ResNet-style backbone of about
  1 GMAC per frame, lowered by ``lower_student`` (cached in ``_build/bench``);
* "shipped network": ``wayvert/data/reference.wvrt``.

Peers and their accuracy checks: ``network_peers``; timing: ``interleaved`` (every peer once per round, the order
shuffled each round, CPU time against wall time per peer; ExecuTorch at 2 threads in a child process). The whole interleaved run is one pytest-benchmark call (its own time
means nothing); the per-peer results are in that benchmark's ``extra_info["peers"]``, which ``benches/report.py``
turns into the tables and the issue's targets. Timings are recorded, never asserted.

``WAYVERT_BENCH_ROUNDS`` (default 15) sets the rounds; each block lasts about 40 ms.
"""
from __future__ import annotations

import os
from typing import Any

import pytest

import wayvert

from interleaved import TimedPeer, calls_per_block, interleave
from network_peers import PEERS, SQNR_FLOOR_DB, NetworkCase, PeerSkipped

NETWORKS = ["large backbone", "shipped network"]
ROUNDS = int(os.environ.get("WAYVERT_BENCH_ROUNDS", "15"))
BLOCK_MS = 40.0


def _engine_path(network: str) -> str:
    if network == "shipped network":
        return wayvert.reference_engine_path()
    import large_backbone

    return str(large_backbone.engine_path())


@pytest.mark.parametrize("network", NETWORKS)
def test_network_peers(benchmark: Any, network: str) -> None:
    case = NetworkCase(network, _engine_path(network))
    try:
        _measure(benchmark, network, case)
    finally:
        case.close()


def _measure(benchmark: Any, network: str, case: NetworkCase) -> None:
    peers: list[TimedPeer] = []
    skipped: dict[str, str] = {}
    for name in PEERS:
        try:
            p = case.peer(name)
        except PeerSkipped as e:
            skipped[name] = str(e)
            continue
        worst = min(p.info["sqnr_db"].values())
        assert worst > SQNR_FLOOR_DB[p.precision], f"{network} {name}: outputs far from the float twin {p.info['sqnr_db']}"
        peers.append(p)
    assert any(p.name == "wayvert_int8_t1" for p in peers)
    calls = {p.name: calls_per_block(p, BLOCK_MS) for p in peers}
    results: dict[str, Any] = {}

    def measure() -> None:
        times = interleave(peers, ROUNDS, calls)
        for p in peers:
            results[p.name] = {"threads": p.threads, "precision": p.precision, "calls_per_block": calls[p.name],
                               **times[p.name].summary(), **p.info}

    benchmark.group = f"peers interleaved: {network}"
    benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(network=network, rounds=ROUNDS, peers=results, skipped=skipped, **case.info)
    for name, why in skipped.items():
        print(f"\n{network}: {name} skipped: {why}")
