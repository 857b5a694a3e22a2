"""The owned publics' list at the national scale: walked from scratch per request (before
``agents.owned``) against the index kept between rebalances.

    python -m bench.owned                 # 175 000 registered, half with state on this worker

One worker of two: 87 500 publics with state (a root and three pages each) in its table, all 175 000
in the registry. Timed: the walk a ``/breaches`` page and a refresh round used to do, the index's
first build (once per assignment), a request after it, and one after a new public's first write (the
list sorted again).
"""

from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

from faust.types import TP

from agents.owned import OwnedPublics
from agents.routing import partition_of

TOPIC = "b.posts"


def timed(call: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=175_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    mine = frozenset(range(args.partitions // 2))
    registry = [f"vk:-{n}" for n in range(args.publics)]
    table: dict[bytes, bytes] = {}
    for public_id in registry:
        if partition_of(public_id, args.partitions) in mine:
            table[public_id.encode()] = b"root"
            for page in ("d|0", "d|1", "ids|0"):
                table[f"{public_id}|{page}".encode()] = b"page"
    consumer = SimpleNamespace(assignment=lambda: {TP(TOPIC, p) for p in mine})
    recovery = SimpleNamespace(in_recovery=False, completed=SimpleNamespace(is_set=lambda: True))
    app = SimpleNamespace(
        consumer=consumer, consumer_generation_id=1, tables=SimpleNamespace(recovery=recovery)
    )
    names = set(registry)
    owned = OwnedPublics(app, table, (TOPIC,), args.partitions, lambda: registry, names.__contains__)

    def walk() -> list[str]:  # what every /breaches page and refresh round did before
        with_state = [
            k.decode()
            for k in list(table)
            if b"|" not in k and partition_of(k.decode(), args.partitions) in mine
        ]
        registered = (p for p in registry if partition_of(p, args.partitions) in mine)
        return sorted(set(with_state).union(registered))

    assert walk() == owned.all()
    before = timed(walk, args.repeat)

    def build() -> None:
        app.consumer_generation_id += 1
        owned.all()

    first = timed(build, args.repeat)
    kept = timed(owned.all, args.repeat)
    n = iter(range(10**9))

    def after_a_new_public() -> None:
        owned.changed([f"vk:-new-{next(n)}"])
        owned.all()

    resorted = timed(after_a_new_public, args.repeat)
    print(f"{len(table):,} records, {len(owned.all()):,} publics owned of {args.publics:,}")
    print(f"{'walk from scratch (before), s':44}{before:>12.4f}")
    print(f"{'index build, once per assignment, s':44}{first:>12.4f}")
    print(f"{'a request on the kept list, s':44}{kept:>12.6f}   ratio to before {kept / before:.5f}")
    print(
        f"{'a request after a new public, s':44}{resorted:>12.4f}   ratio to before {resorted / before:.3f}"
    )


if __name__ == "__main__":
    main()
