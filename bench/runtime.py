"""awslambdaric against lambdalite's loop: same Runtime API, same handler, one run.

Both loops run as child processes of the local Runtime API (`runtime.local`),
on the same interpreter, with bytecode compiled ahead (as a Lambda package
ships it). Measured for each:

- invocations per second: rounds of a few thousand invocations kept queued,
  so that the loop, not the queue, sets the pace; the two loops' rounds
  alternate and the best round of each counts (other work on the machine
  only ever slows a round down);
- start-up: from spawning the process to its first `GET /next`, the median of
  several fresh processes (samples alternate between the two loops);
- peak RSS: the worker's VmHWM after the invocations;
- CPU per invocation: the worker's user + system time over the invocations,
  which a busy machine disturbs less than the rate (the median round; shown,
  not a target).

Prints a table, then as the last line one JSON object with the ratios
(lambdalite over awslambdaric). Targets: invocations per second >= 1.5,
start-up <= 0.8, peak RSS <= 1.0.

    python bench/runtime.py [--invocations 2000] [--rounds 3] [--starts 15]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime.local import LocalRuntimeAPI, loop_command  # noqa: E402

HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "hello", "n": event["n"]}
"""

LOOPS = {
    "awslambdaric": [sys.executable, "-m", "awslambdaric", "app.handler"],
    "lambdalite": loop_command(),
}


def start_up(command: list[str], task_root: str) -> float:
    """Seconds from spawning one fresh process to its first `GET /next`."""
    api = LocalRuntimeAPI(
        command, handler="app.handler", task_root=task_root, output=-3
    )
    with api:
        deadline = time.monotonic() + 30
        while not api.workers[0].startup_seconds:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command} never asked for work")
            time.sleep(0.005)
        return api.workers[0].startup_seconds[0]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(
    command: list[str], task_root: str, count: int
) -> tuple[float, int, float]:
    """Invocations per second over `count` queued invocations, peak RSS KiB,
    and the worker's CPU microseconds per invocation."""
    api = LocalRuntimeAPI(
        command, handler="app.handler", task_root=task_root, output=-3
    )
    with api:
        # warm: the process is up and has served once
        assert api.invoke(b'{"n": -1}', wait=30).ok
        process = api.workers[0].process
        assert process is not None
        events = [json.dumps({"n": n}).encode() for n in range(count)]

        async def run_all() -> float:
            started = time.perf_counter()
            futures = [api.enqueue(event) for event in events]
            await asyncio.wait(futures)
            took = time.perf_counter() - started
            if not all(future.result().ok for future in futures):
                raise RuntimeError("an invocation failed")
            return took

        cpu_before = cpu_seconds(process.pid)
        took: float = api.call(run_all(), timeout=600)
        cpu = (cpu_seconds(process.pid) - cpu_before) / count * 1e6
        rss = api.peak_rss_kb()[0]
    return count / took, rss, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invocations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--starts", type=int, default=15)
    args = parser.parse_args()
    if not 1 <= args.invocations <= 100000 or not 1 <= args.starts <= 200:
        parser.error("--invocations must be 1..100000 and --starts 1..200")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")
    try:
        import awslambdaric  # noqa: F401
    except ImportError:
        sys.exit("bench/runtime.py needs awslambdaric: pip install awslambdaric")

    with tempfile.TemporaryDirectory() as task_root:
        (Path(task_root) / "app.py").write_text(HANDLER)
        compileall.compile_dir(task_root, quiet=1)
        compileall.compile_dir(str(ROOT / "runtime"), quiet=1)

        starts: dict[str, list[float]] = {name: [] for name in LOOPS}
        for _ in range(args.starts):
            for name, command in LOOPS.items():
                starts[name].append(start_up(command, task_root))
        rates: dict[str, list[float]] = {name: [] for name in LOOPS}
        rss: dict[str, int] = dict.fromkeys(LOOPS, 0)
        cpus: dict[str, list[float]] = {name: [] for name in LOOPS}
        for _ in range(args.rounds):
            for name, command in LOOPS.items():
                rate, peak, cpu_used = throughput(command, task_root, args.invocations)
                rates[name].append(rate)
                rss[name] = max(rss[name], peak)
                cpus[name].append(cpu_used)

    best = {name: max(values) for name, values in rates.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}

    start = {name: statistics.median(values) for name, values in starts.items()}
    print(
        f"{'loop':<14}{'invocations/s':>15}{'start-up ms':>14}{'peak RSS MiB':>15}"
        f"{'CPU us/inv':>12}"
    )
    for name in LOOPS:
        print(
            f"{name:<14}{best[name]:>15.0f}{start[name] * 1000:>14.1f}"
            f"{rss[name] / 1024:>15.1f}{cpu[name]:>12.0f}"
        )
    ratios = {
        "invocations_per_second": round(best["lambdalite"] / best["awslambdaric"], 3),
        "start_up": round(start["lambdalite"] / start["awslambdaric"], 3),
        "peak_rss": round(rss["lambdalite"] / rss["awslambdaric"], 3),
        "cpu_per_invocation": round(cpu["lambdalite"] / cpu["awslambdaric"], 3),
        "invocations": args.invocations * args.rounds,
        "starts": args.starts,
    }
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
