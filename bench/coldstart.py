"""Cold start: what a Lambda function pays before its first line of work.

Fresh interpreters, interleaved, each doing one of:

    bare        python -c pass
    boto3       import boto3, build an S3 and a DynamoDB client
    lambdalite  import services, build an S3 and a DynamoDB client

Wall time from spawn to exit (median) and peak resident memory (median), from
`os.wait4`. No request is sent: the clients point at 127.0.0.1 and are only
built. Prints a table, then one JSON object with the ratios as the last line.

    python bench/coldstart.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)

PROGRAMS = {
    "bare": "pass",
    "boto3": (
        "import boto3\n"
        "s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:9')\n"
        "db = boto3.client('dynamodb', endpoint_url='http://127.0.0.1:9')\n"
    ),
    "lambdalite": (
        "import services\n"
        "s3 = services.client('s3', endpoint_url='http://127.0.0.1:9')\n"
        "db = services.client('dynamodb', endpoint_url='http://127.0.0.1:9')\n"
    ),
}


def run_once(code: str) -> tuple[float, float]:
    """Seconds from spawn to exit, and peak RSS in MiB, of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark program failed: {code!r}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    # warm the OS cache and write bytecode once
    for code in PROGRAMS.values():
        run_once(code)

    times: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    memory: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    for _ in range(args.runs):
        for name, code in PROGRAMS.items():
            elapsed, rss = run_once(code)
            times[name].append(elapsed)
            memory[name].append(rss)

    ms = {name: statistics.median(v) * 1000 for name, v in times.items()}
    mib = {name: statistics.median(v) for name, v in memory.items()}
    print(f"{'process':<12}{'wall ms':>10}{'peak MiB':>10}")
    for name in PROGRAMS:
        print(f"{name:<12}{ms[name]:>10.1f}{mib[name]:>10.1f}")
    over_bare = {n: ms[n] - ms["bare"] for n in ("boto3", "lambdalite")}
    print(
        f"added to a bare start: boto3 {over_bare['boto3']:.1f} ms, "
        f"lambdalite {over_bare['lambdalite']:.1f} ms"
    )
    ratios = {
        "time_lambdalite_over_boto3": round(ms["lambdalite"] / ms["boto3"], 3),
        "memory_lambdalite_over_boto3": round(mib["lambdalite"] / mib["boto3"], 3),
        "boto3_over_bare_time": round(ms["boto3"] / ms["bare"], 2),
        "lambdalite_over_bare_time": round(ms["lambdalite"] / ms["bare"], 2),
    }
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
