"""S3 client benchmark: lambdalite against boto3, on a fast local stub S3.

    python bench/s3.py [--runs N] [--calls N]

Starts a small asyncio S3 stub on 127.0.0.1 (in its own process, so it does
not share the client's interpreter), then measures, for each library:

* cold start: a fresh process that imports the library, builds an S3 client
  and completes one small get_object; wall time and peak RSS, median of runs;
* small put_object and get_object calls per second on one warm client;
* upload_file and download_file of a 256 MiB file, each in a fresh process,
  on a stub that takes multipart uploads and ranged GETs
  (bench/_transfer_bench.py).

Prints a table, then as the last line one JSON object with each ratio
(lambdalite / boto3 for time and memory, lambdalite / boto3 for calls/s).
Everything listens on and talks to 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import _transfer_bench  # beside this script

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BUCKET = "bench-bucket"
KEY = "small.txt"
SMALL = b"x" * 1024


# -- the stub ------------------------------------------------------------------


class _StubProtocol(asyncio.Protocol):
    """A minimal HTTP/1.1 S3: PUT stores, GET/HEAD return, the rest say 200."""

    store: ClassVar[dict[str, bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport
        self.buffer = b""
        self.continued = False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            expect = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip())
                elif name == "expect":
                    expect = value.strip().lower() == "100-continue"
            end = head_end + 4 + length
            if len(self.buffer) < end:
                if expect and not self.continued:
                    # botocore waits for this before it sends a PUT body
                    self.continued = True
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self.continued = False
            body = self.buffer[head_end + 4 : end]
            self.buffer = self.buffer[end:]
            self.respond(method, target.split("?", 1)[0], body)

    def respond(self, method: str, path: str, body: bytes) -> None:
        common = (
            "x-amz-request-id: STUB\r\n"
            "Date: Fri, 04 Dec 2026 12:00:00 GMT\r\n"
            'ETag: "0123456789abcdef0123456789abcdef"\r\n'
        )
        payload = b""
        if method == "PUT":
            self.store[path] = body
        elif method in ("GET", "HEAD"):
            payload = self.store.get(path, SMALL)
            common += (
                "Last-Modified: Fri, 04 Dec 2026 12:00:00 GMT\r\n"
                "Content-Type: text/plain\r\n"
                "Accept-Ranges: bytes\r\n"
            )
        head = (
            f"HTTP/1.1 200 OK\r\n{common}Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        self.transport.write(head + (payload if method != "HEAD" else b""))


def serve_stub(port: int) -> None:
    """Run the stub until killed (the benchmark kills it by its pid)."""
    loop = asyncio.new_event_loop()
    loop.run_until_complete(loop.create_server(_StubProtocol, HOST, port, backlog=128))
    loop.run_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_stub() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], cwd=str(ROOT)
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return proc, f"http://{HOST}:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the stub did not start within 10 s")


# -- what runs in the measured processes --------------------------------------

_COLD = {
    "boto3": """
import boto3
s3 = boto3.client("s3", region_name="us-east-1", endpoint_url={url!r},
    aws_access_key_id="AKIDBENCH", aws_secret_access_key="benchsecret")
s3.get_object(Bucket={bucket!r}, Key={key!r})["Body"].read()
""",
    "lambdalite": """
import services
s3 = services.client("s3", region_name="us-east-1", endpoint_url={url!r},
    aws_access_key_id="AKIDBENCH", aws_secret_access_key="benchsecret")
s3.get_object(Bucket={bucket!r}, Key={key!r})["Body"].read()
""",
}

# Peak RSS from VmHWM: ru_maxrss survives exec, so it would count the
# benchmark's own memory in the child.
_WRAP = """
import time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
with open("/proc/self/status") as status:
    peak = [line.split()[1] for line in status if line.startswith("VmHWM")][0]
print(elapsed, peak)
"""


def cold_start(lib: str, url: str, runs: int) -> tuple[float, float]:
    """Median wall seconds (process start to result) and peak RSS in MiB."""
    code = _COLD[lib].format(url=url, bucket=BUCKET, key=KEY)
    times, rss = [], []
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    # Both libraries start from bytecode, as an installed package or a Lambda
    # bundle does: an untimed first run writes what is missing even where
    # PYTHONDONTWRITEBYTECODE is set.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for run in range(runs + 1):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _WRAP.format(body=code)],
            capture_output=True,
            check=True,
            timeout=60,
            env=env,
            cwd=str(ROOT),
        )
        if run == 0:
            continue
        times.append(time.perf_counter() - start)
        rss.append(int(out.stdout.split()[1]) / 1024)
    return statistics.median(times), statistics.median(rss)


def make_client(lib: str, url: str) -> object:
    if lib == "boto3":
        import boto3

        return boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="AKIDBENCH",
            aws_secret_access_key="benchsecret",
        )
    import services

    return services.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="benchsecret",
    )


def calls_per_second(lib: str, url: str, calls: int) -> tuple[float, float]:
    """put_object and get_object calls per second on one warm client."""
    s3: object = make_client(lib, url)
    put = s3.put_object  # type: ignore[attr-defined]
    get = s3.get_object  # type: ignore[attr-defined]
    for _ in range(50):
        put(Bucket=BUCKET, Key=KEY, Body=SMALL)
        get(Bucket=BUCKET, Key=KEY)["Body"].read()
    start = time.perf_counter()
    for _ in range(calls):
        put(Bucket=BUCKET, Key=KEY, Body=SMALL)
    put_rate = calls / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(calls):
        get(Bucket=BUCKET, Key=KEY)["Body"].read()
    get_rate = calls / (time.perf_counter() - start)
    return put_rate, get_rate


def rates_in_own_process(lib: str, url: str, calls: int) -> tuple[float, float]:
    """calls_per_second in a fresh process that loads only that library.

    In one process the second library would pay for the first one's objects
    at every garbage collection.
    """
    out = subprocess.run(
        [sys.executable, __file__, "--rates", lib, url, "--calls", str(calls)],
        capture_output=True,
        check=True,
        timeout=600,
        cwd=str(ROOT),
    )
    put_rate, get_rate = json.loads(out.stdout.splitlines()[-1])
    return float(put_rate), float(get_rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts per library")
    parser.add_argument("--calls", type=int, default=2000, help="calls per rate")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rates", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_stub(args.serve)
        return
    if args.rates:
        lib, url = args.rates
        print(json.dumps(calls_per_second(lib, url, args.calls)))
        return

    stub, url = start_stub()
    try:
        rows: dict[str, dict[str, float]] = {}
        for lib in ("boto3", "lambdalite"):
            cold, rss = cold_start(lib, url, args.runs)
            put_rate, get_rate = rates_in_own_process(lib, url, args.calls)
            rows[lib] = {"cold": cold, "rss": rss, "put": put_rate, "get": get_rate}
        # Transfers (upload_file/download_file of 256 MiB) add their rows here.
        for lib, fields in _transfer_bench.measure().items():
            rows[lib].update(fields)
    finally:
        stub.terminate()
        stub.wait(timeout=10)

    base, ours = rows["boto3"], rows["lambdalite"]
    print(f"{'measure':<44}{'boto3':>12}{'lambdalite':>12}{'ratio':>8}")
    table = [
        ("cold start: import+client+get_object (ms)", "cold", 1000.0, "cold_time"),
        ("cold start peak RSS (MiB)", "rss", 1.0, "cold_rss"),
        ("put_object small (calls/s)", "put", 1.0, "put_rate"),
        ("get_object small (calls/s)", "get", 1.0, "get_rate"),
        *_transfer_bench.TABLE,
    ]
    ratios = {}
    for label, field, scale, name in table:
        ratio = ours[field] / base[field]
        ratios[name] = round(ratio, 3)
        print(
            f"{label:<44}{base[field] * scale:>12.1f}{ours[field] * scale:>12.1f}"
            f"{ratio:>8.2f}"
        )
    ratios.update(_transfer_bench.bound_ratios(ours))
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
