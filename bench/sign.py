"""Signing speed and import cost: lambdalite's sigv4 against botocore's signer.

Run: python bench/sign.py [--seconds 0.5] [--imports 21]

Each case builds a fresh request and signs it, the way each library does for
every request it sends: botocore an `AWSRequest` through `SigV4Auth`,
`S3SigV4Auth` or `S3SigV4QueryAuth.add_auth`, lambdalite a call to
`sigv4.sign` or `sigv4.presign`. Both read the clock themselves, and before
timing both are checked to give the same signature for each case. The
"ratio" column compares with `add_auth` alone; "vs +prepare" with `add_auth`
followed by `AWSRequest.prepare()`, which botocore needs before it can send.
Every case is timed in rounds, alternating the libraries; the best round counts.

The import cost is the median wall time of fresh `python -c "import sigv4"`
processes minus that of `python -c pass`, run interleaved, with bytecode
cached as an installed package has it.

The last line printed is one JSON object with every ratio and the import cost
(`get`, `post`, `put`, `presign` against `add_auth` alone).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time

import sigv4

ROOT = Path(__file__).resolve().parent.parent
ACCESS_KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"

GET_URL = (
    "https://sqs.us-east-1.amazonaws.com/"
    "?Action=ListQueues&QueueNamePrefix=orders&Version=2012-11-05"
)
DDB_URL = "https://dynamodb.us-east-1.amazonaws.com/"
DDB_HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.PutItem",
}
S3_URL = "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2026/cat.jpg"
S3_HEADERS = {"Content-Type": "image/jpeg"}


def ddb_body() -> bytes:
    """A DynamoDB PutItem request of exactly 1 KiB."""
    item = {"pk": {"S": "user#42"}, "sk": {"S": "profile"}, "bio": {"S": ""}}
    doc = {"TableName": "users", "Item": item}
    short = len(json.dumps(doc, separators=(",", ":")))
    item["bio"]["S"] = "x" * (1024 - short)
    body = json.dumps(doc, separators=(",", ":")).encode()
    assert len(body) == 1024
    return body


BODY = ddb_body()
S3_BODY = bytes(range(256)) * 4


def botocore_cases(*, prepare: bool = False) -> dict[str, Callable[[], str]]:
    """One callable per case, each signing a fresh botocore request.

    With `prepare`, the signed request is also turned into the prepared request
    botocore hands its HTTP client, the step that gives it a URL and headers to
    send, which `sigv4.sign` returns directly.
    """
    creds = BotoCredentials(ACCESS_KEY, SECRET)
    sqs = SigV4Auth(creds, "sqs", REGION)
    ddb = SigV4Auth(creds, "dynamodb", REGION)
    s3 = S3SigV4Auth(creds, "s3", REGION)
    s3_query = S3SigV4QueryAuth(creds, "s3", REGION, expires=3600)

    def signed(auth: SigV4Auth, request: AWSRequest) -> str:
        auth.add_auth(request)
        if prepare:
            prepared = request.prepare()
            return str(prepared.headers.get("Authorization") or prepared.url)
        return str(request.headers.get("Authorization") or request.url)

    def get() -> str:
        return signed(sqs, AWSRequest("GET", GET_URL))

    def post() -> str:
        return signed(ddb, AWSRequest("POST", DDB_URL, dict(DDB_HEADERS), BODY))

    def put() -> str:
        return signed(s3, AWSRequest("PUT", S3_URL, dict(S3_HEADERS), S3_BODY))

    def presigned() -> str:
        return signed(s3_query, AWSRequest("GET", S3_URL))

    return {"get": get, "post": post, "put": put, "presign": presigned}


def lambdalite_cases() -> dict[str, Callable[[], str]]:
    """One callable per case, each signing with sigv4."""
    creds = sigv4.Credentials(ACCESS_KEY, SECRET)

    def get() -> str:
        return sigv4.sign(
            "GET", GET_URL, credentials=creds, region=REGION, service="sqs"
        ).authorization

    def post() -> str:
        return sigv4.sign(
            "POST",
            DDB_URL,
            DDB_HEADERS,
            BODY,
            credentials=creds,
            region=REGION,
            service="dynamodb",
        ).authorization

    def put() -> str:
        return sigv4.sign(
            "PUT",
            S3_URL,
            S3_HEADERS,
            S3_BODY,
            credentials=creds,
            region=REGION,
            service="s3",
        ).authorization

    def presigned() -> str:
        return sigv4.presign(
            "GET", S3_URL, credentials=creds, region=REGION, service="s3"
        ).url

    return {"get": get, "post": post, "put": put, "presign": presigned}


def signature_of(signed: str) -> str:
    """The signature in an Authorization header or a presigned URL."""
    for mark in ("Signature=", "X-Amz-Signature="):
        if mark in signed:
            return signed.rpartition(mark)[2].partition("&")[0]
    raise ValueError("no signature")


def check_same_work() -> None:
    """Both libraries sign each case to the same signature (at a frozen time)."""
    with freeze_time("2026-06-01 12:00:00"):
        theirs, ours = botocore_cases(), lambdalite_cases()
        for case in theirs:
            if signature_of(theirs[case]()) != signature_of(ours[case]()):
                raise SystemExit(f"{case}: the signatures differ, no comparison")


def rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second over one round of about `seconds`."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            func()
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def import_cost(runs: int) -> tuple[float, float]:
    """Median ms of `python -c pass` and of `python -c "import sigv4"`.

    Compiled modules are cached first and used, as they are for an installed
    package, whatever PYTHONDONTWRITEBYTECODE says in this shell.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-c", "import sigv4"], cwd=ROOT, env=env, check=True
    )

    bare: list[float] = []
    loaded: list[float] = []
    for _ in range(runs):
        for code, into in (("pass", bare), ("import sigv4", loaded)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
            into.append((time.perf_counter() - start) * 1000)
    return statistics.median(bare), statistics.median(loaded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0.25)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--imports", type=int, default=21)
    args = parser.parse_args()

    labels = {
        "get": "GET, three query parameters (sqs)",
        "post": "POST, 1 KiB JSON (dynamodb)",
        "put": "PUT, 1 KiB body (s3)",
        "presign": "presigned GET (s3)",
    }
    check_same_work()
    theirs, prepared = botocore_cases(), botocore_cases(prepare=True)
    ours = lambdalite_cases()
    ratios: dict[str, float] = {}
    print("requests signed per second (best of rounds); signatures checked equal")
    print(
        f"{'case':<34} {'botocore':>9} {'+prepare':>9} {'lambdalite':>11} "
        f"{'ratio':>6} {'vs +prepare':>11}"
    )
    for case, label in labels.items():
        best = {"theirs": 0.0, "prepared": 0.0, "ours": 0.0}
        for _ in range(args.rounds):
            for name, func in (
                ("theirs", theirs[case]),
                ("prepared", prepared[case]),
                ("ours", ours[case]),
            ):
                best[name] = max(best[name], rate(func, args.seconds))
        ratios[case] = round(best["ours"] / best["theirs"], 2)
        ratios[f"{case}_vs_prepared"] = round(best["ours"] / best["prepared"], 2)
        print(
            f"{label:<34} {best['theirs']:>9,.0f} {best['prepared']:>9,.0f} "
            f"{best['ours']:>11,.0f} {ratios[case]:>5}x "
            f"{ratios[case + '_vs_prepared']:>10}x"
        )

    bare, loaded = import_cost(args.imports)
    added = round(loaded - bare, 1)
    print(
        f"\nimport sigv4: {loaded:.1f} ms, python -c pass: {bare:.1f} ms "
        f"(medians of {args.imports}, bytecode cached), added {added} ms"
    )
    print(json.dumps({**ratios, "import_added_ms": added}))


if __name__ == "__main__":
    main()
