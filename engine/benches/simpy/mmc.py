"""The M/M/c benchmark model of `hcp bench engine`, written for SimPy.

Same queue (c = 8 servers, mu = 1, lambda = 0.9 * c), same customer count,
FCFS, statistics of the wait in queue. SimPy counts several internal events
per customer (arrival timeout, resource request, service timeout, release),
so engines are compared on customers per second, which is model work and not
an engine's bookkeeping.

    python3 -m venv .venv && .venv/bin/pip install -r engine/benches/simpy/requirements.txt
    .venv/bin/python engine/benches/simpy/mmc.py --customers 1000000 --json
"""

import argparse
import json
import random
import statistics
import time

import simpy


def run(customers: int, servers: int, seed: int) -> tuple[float, int]:
    env = simpy.Environment()
    station = simpy.Resource(env, capacity=servers)
    rng_arrivals = random.Random(seed)
    rng_service = random.Random(seed + 1)
    arrival_rate = 0.9 * servers
    waits_total = 0.0
    served = 0

    def customer():
        nonlocal waits_total, served
        arrived = env.now
        with station.request() as request:
            yield request
            waits_total += env.now - arrived
            served += 1
            yield env.timeout(rng_service.expovariate(1.0))

    def source():
        for _ in range(customers):
            yield env.timeout(rng_arrivals.expovariate(arrival_rate))
            env.process(customer())

    env.process(source())
    env.run()
    return waits_total / served, served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--servers", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    walls = []
    for i in range(args.repeats):
        start = time.perf_counter()
        mean_wait, served = run(args.customers, args.servers, args.seed + 2 * i)
        walls.append(time.perf_counter() - start)
    wall = statistics.median(walls)
    report = {
        "engine": f"SimPy {simpy.__version__}",
        "customers": args.customers,
        "servers": args.servers,
        "repeats": args.repeats,
        "wall_s": wall,
        "customers_per_sec": args.customers / wall,
        "mean_wait_s": mean_wait,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"SimPy {simpy.__version__}: {args.customers} customers, median of {args.repeats} runs: "
            f"{wall:.2f} s, {report['customers_per_sec'] / 1e3:.0f} k customers/s, "
            f"mean wait {mean_wait:.4f} s"
        )


if __name__ == "__main__":
    main()
