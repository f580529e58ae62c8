"""Managed transfers, boto3 against lambdalite: upload_file and download_file.

    python bench/_transfer_bench.py [--runs N] [--mib N]

`bench/s3.py` calls `measure` and adds `TABLE` to its own table; run alone,
this module prints its rows and a JSON line of its ratios.

A stub S3 in its own process on 127.0.0.1 takes multipart uploads (bodies are
read and dropped) and answers HEAD and ranged GETs from one object held in
memory, so neither client waits on storage. Each transfer runs in a fresh
process, which reports the transfer's wall time and the process's peak RSS;
the median of the runs is kept. Both libraries use their default transfer
settings (8 MiB parts, 10 at a time), so the memory bound is
8 MiB x 10 + 40 MiB = 120 MiB of peak RSS, interpreter included.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MiB = 1024 * 1024
BUCKET = "bench-bucket"
KEY = "big.bin"
PART = 8 * MiB
CONCURRENCY = 10
RSS_BOUND_MIB = PART * CONCURRENCY / MiB + 40

# (label, field, scale, ratio name), as bench/s3.py prints its rows
TABLE = [
    ("upload_file 256 MiB (ms)", "upload_time", 1000.0, "upload_file_time"),
    ("upload_file peak RSS (MiB)", "upload_rss", 1.0, "upload_file_rss"),
    ("download_file 256 MiB (ms)", "download_time", 1000.0, "download_file_time"),
    ("download_file peak RSS (MiB)", "download_rss", 1.0, "download_file_rss"),
]


def content(size: int) -> bytes:
    """The benchmark object: the same pseudo-random bytes in every process."""
    block = random.Random(7).randbytes(MiB)
    return block * (size // MiB)


# -- the stub ------------------------------------------------------------------


class _Handler(socketserver.StreamRequestHandler):
    """One kept-alive connection: just enough S3 for managed transfers."""

    data: bytes = b""
    rbufsize = 1 << 20
    wbufsize = 0

    def handle(self) -> None:
        scratch = bytearray(1 << 20)
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                raw = self.rfile.readline(65537)
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("expect", "").lower() == "100-continue":
                self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            remaining = int(headers.get("content-length", "0"))
            view = memoryview(scratch)
            while remaining:
                got = self.rfile.readinto(view[: min(remaining, len(scratch))])
                if not got:
                    return
                remaining -= got
            self.respond(method, target, headers)

    def send(self, status: str, headers: str, body: bytes | memoryview = b"") -> None:
        head = (
            f"HTTP/1.1 {status}\r\nx-amz-request-id: STUB\r\n"
            f"Date: Fri, 04 Dec 2026 12:00:00 GMT\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.connection.sendall(head)
        if body:
            self.connection.sendall(body)

    def respond(self, method: str, target: str, headers: dict[str, str]) -> None:
        query = target.partition("?")[2]
        etag = 'ETag: "0123456789abcdef0123456789abcdef"\r\n'
        if method == "POST" and query.startswith("uploads"):
            xml = (
                "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                "<UploadId>UPLOAD1</UploadId></InitiateMultipartUploadResult>"
            )
            self.send("200 OK", "", xml.encode())
        elif method == "POST" and "uploadId=" in query:
            xml = (
                "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                '<ETag>"0123456789abcdef0123456789abcdef-32"</ETag>'
                "</CompleteMultipartUploadResult>"
            )
            self.send("200 OK", "", xml.encode())
        elif method in ("PUT", "DELETE"):
            self.send("200 OK" if method == "PUT" else "204 No Content", etag)
        elif method in ("GET", "HEAD"):
            self.serve_object(method, headers, etag)
        else:
            self.send("405 Method Not Allowed", "")

    def serve_object(self, method: str, headers: dict[str, str], etag: str) -> None:
        data = memoryview(self.data)
        common = etag + "Accept-Ranges: bytes\r\nContent-Type: binary/octet-stream\r\n"
        wanted = headers.get("range")
        if method == "HEAD":
            self.connection.sendall(
                (
                    f"HTTP/1.1 200 OK\r\n{common}Content-Length: {len(data)}\r\n\r\n"
                ).encode()
            )
        elif wanted is None:
            self.send("200 OK", common, data)
        else:
            first, _, last = wanted.removeprefix("bytes=").partition("-")
            start = int(first)
            end = int(last) if last else len(data) - 1
            ranged = f"Content-Range: bytes {start}-{end}/{len(data)}\r\n"
            self.send("206 Partial Content", common + ranged, data[start : end + 1])


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(port: int, size: int) -> None:
    """Run the stub until killed (the benchmark stops it by its pid)."""
    _Handler.data = content(size)
    with _Server((HOST, port), _Handler) as server:
        server.serve_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_stub(size: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--mib", str(size // MiB)]
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return proc, f"http://{HOST}:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the transfer stub did not start within 20 s")


# -- the measured processes ----------------------------------------------------

_CLIENT = {
    "boto3": """
import boto3
s3 = boto3.client("s3", region_name="us-east-1", endpoint_url={url!r},
    aws_access_key_id="AKIDBENCH", aws_secret_access_key="benchsecret")
""",
    "lambdalite": """
import services
s3 = services.client("s3", region_name="us-east-1", endpoint_url={url!r},
    aws_access_key_id="AKIDBENCH", aws_secret_access_key="benchsecret")
""",
}
_CALL = {
    "upload": "s3.upload_file({path!r}, {bucket!r}, {key!r})",
    "download": "s3.download_file({bucket!r}, {key!r}, {path!r})",
}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
_TIMED = """
import time
{client}
start = time.perf_counter()
{call}
elapsed = time.perf_counter() - start
with open("/proc/self/status") as status:
    hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")][0]
print(elapsed, hwm)
"""


def one_transfer(lib: str, what: str, url: str, path: str) -> tuple[float, float]:
    """Seconds for one transfer, and the peak RSS (MiB) of its fresh process."""
    code = _TIMED.format(
        client=_CLIENT[lib].format(url=url),
        call=_CALL[what].format(path=path, bucket=BUCKET, key=KEY),
    )
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=True,
        timeout=300,
        env=env,
        cwd=str(ROOT),
    )
    seconds, rss_kib = out.stdout.split()[-2:]
    return float(seconds), int(rss_kib) / 1024


def measure(runs: int = 3, size: int = 256 * MiB) -> dict[str, dict[str, float]]:
    """Median upload/download seconds and peak RSS per library."""
    stub, url = start_stub(size)
    digest = hashlib.sha256()
    block = content(MiB)
    for _ in range(size // MiB):
        digest.update(block)
    expected = digest.hexdigest()
    rows: dict[str, dict[str, float]] = {"boto3": {}, "lambdalite": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="transfer-bench-") as work:
            source = os.path.join(work, "source.bin")
            with open(source, "wb") as out:
                block = content(MiB)
                for _ in range(size // MiB):
                    out.write(block)
            target = os.path.join(work, "target.bin")
            for what, path in (("upload", source), ("download", target)):
                times: dict[str, list[float]] = {"boto3": [], "lambdalite": []}
                rss: dict[str, list[float]] = {"boto3": [], "lambdalite": []}
                # the libraries take turns, so neither always runs second
                for turn in range(runs):
                    for lib in ("boto3", "lambdalite")[:: 1 if turn % 2 else -1]:
                        seconds, peak = one_transfer(lib, what, url, path)
                        times[lib].append(seconds)
                        rss[lib].append(peak)
                        if what == "download":
                            check_download(target, expected)
                for lib in rows:
                    rows[lib][f"{what}_time"] = statistics.median(times[lib])
                    rows[lib][f"{what}_rss"] = statistics.median(rss[lib])
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    return rows


def check_download(path: str, expected: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as fileobj:
        while chunk := fileobj.read(4 * MiB):
            digest.update(chunk)
    os.remove(path)
    if digest.hexdigest() != expected:
        raise SystemExit("a download did not match the stub's object")


def bound_ratios(lambdalite: dict[str, float]) -> dict[str, float]:
    """lambdalite's peak RSS over part size x concurrency + 40 MiB (<= 1 passes)."""
    return {
        f"{what}_file_rss_vs_bound": round(lambdalite[f"{what}_rss"] / RSS_BOUND_MIB, 3)
        for what in ("upload", "download")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per transfer")
    parser.add_argument("--mib", type=int, default=256, help="object size in MiB")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.mib * MiB)
        return

    rows = measure(args.runs, args.mib * MiB)
    theirs, ours = rows["boto3"], rows["lambdalite"]
    print(f"{'measure':<44}{'boto3':>12}{'lambdalite':>12}{'ratio':>8}")
    ratios: dict[str, float] = {}
    for label, field, scale, name in TABLE:
        ratio = ours[field] / theirs[field]
        ratios[name] = round(ratio, 3)
        print(
            f"{label:<44}{theirs[field] * scale:>12.1f}{ours[field] * scale:>12.1f}"
            f"{ratio:>8.2f}"
        )
    ratios.update(bound_ratios(ours))
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
