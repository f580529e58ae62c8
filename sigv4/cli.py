"""The signing subcommands of `lambdalite`: send, presign, canonical.

`send` signs a request and sends it, in the spirit of awscurl; `presign`
prints a presigned URL; `canonical` prints the canonical request and the
string to sign, to compare with what a server says it expected. Credentials
come from the standard chain (`--profile` picks a profile); the service and
region are read from an AWS host name when not given.

Nothing here prints a secret key or a session token; `canonical` and `send -v`
show the canonical request through the redacting view and never the
signature. User errors print one line on stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

from .errors import NoRegionError, SigningError, SigV4Error

if TYPE_CHECKING:
    import httpx

    from .credentials import Credentials

PROG = "lambdalite"

# <service>.<region>.amazonaws.com and its variants (dualstack, fips, dashes)
_REGION = re.compile(r"^(?:[a-z]{2}|us-gov|cn)-[a-z]+(?:-[a-z]+)?-\d+$")
_SUFFIXES = (".amazonaws.com.cn", ".amazonaws.com", ".api.aws", ".on.aws")
_QUALIFIERS = frozenset({"dualstack", "fips"})
_SERVICE_NAMES = {"lambda-url": "lambda", "s3-control": "s3", "s3-accesspoint": "s3"}
_GLOBAL_REGION = "us-east-1"


class UsageError(Exception):
    """A mistake on the command line, shown as one line on stderr."""


# -- service and region from the host ---------------------------------------


def infer_service_region(host: str) -> tuple[str | None, str | None]:
    """The service and region an AWS host name implies, or None for each.

    `s3.us-west-2.amazonaws.com` gives ("s3", "us-west-2"),
    `bucket.s3.amazonaws.com` ("s3", "us-east-1"), `example.com` (None, None).
    """
    host = host.lower().rstrip(".")
    suffix = next((s for s in _SUFFIXES if host.endswith(s)), None)
    if suffix is None:
        return None, None
    labels = [x for x in host[: -len(suffix)].split(".") if x not in _QUALIFIERS]
    if not labels:
        return None, None

    # S3's dashed forms: s3-us-west-2, s3-fips-us-east-1, s3-external-1
    for label in labels:
        rest = label.removeprefix("s3-").removeprefix("fips-")
        if label.startswith("s3-") and _REGION.match(rest):
            return "s3", rest
        if label == "s3-external-1":
            return "s3", _GLOBAL_REGION

    for index, label in enumerate(labels):
        if _REGION.match(label) and index > 0:
            return _signing_name(labels[index - 1]), label
    return _signing_name(labels[-1]), _GLOBAL_REGION


def _signing_name(label: str) -> str:
    """The signing name of an endpoint label: `dynamodb-fips` signs `dynamodb`."""
    label = label.removesuffix("-fips")
    return _SERVICE_NAMES.get(label, label)


# -- shared options -----------------------------------------------------------


# an HTTP method is a token (RFC 9110, 5.6.2)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


def _method_arg(text: str) -> str:
    if not _TOKEN.match(text):
        raise argparse.ArgumentTypeError("the method must be a word such as GET")
    return text.upper()


def _timeout_arg(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("the timeout must be a number") from None
    # "not >" also refuses nan
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return seconds


def _add_signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the URL, e.g. https://s3.us-west-2.amazonaws.com/")
    parser.add_argument(
        "-X",
        "--request",
        dest="method",
        metavar="METHOD",
        type=_method_arg,
        help="the HTTP method",
    )
    parser.add_argument(
        "--service", help="the signing name, e.g. s3 (read from the host if AWS)"
    )
    parser.add_argument("--region", help="the region (read from the host if AWS)")
    parser.add_argument("--profile", help="the profile of the shared config files")


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-H",
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a header to send and sign (repeatable)",
    )
    parser.add_argument(
        "-d",
        "--data",
        metavar="DATA",
        help="the body: a string, @FILE, or @- for standard input",
    )
    parser.add_argument(
        "--unsigned-payload",
        action="store_true",
        help="sign UNSIGNED-PAYLOAD instead of the body's SHA-256",
    )


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the signing subcommands; each sets `run` to its handler."""
    send = sub.add_parser(
        "send",
        help="sign a request with SigV4 and send it",
        description="Sign a request with SigV4 and send it; print the answer. "
        "Exits 0 on a 1xx-3xx answer, 1 on 4xx/5xx or an error.",
    )
    _add_signing_options(send)
    _add_request_options(send)
    send.add_argument(
        "-i", "--include", action="store_true", help="print the answer's headers"
    )
    send.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the canonical request (redacted) and headers on stderr",
    )
    send.add_argument(
        "--timeout", type=_timeout_arg, default=30.0, help="seconds (default 30)"
    )
    send.set_defaults(run=run_send)

    presign = sub.add_parser(
        "presign",
        help="print a presigned URL",
        description="Print a URL signed in its query string.",
    )
    _add_signing_options(presign)
    presign.add_argument(
        "--expires",
        type=int,
        default=3600,
        help="seconds the URL stays valid, 1 to 604800 (default 3600)",
    )
    presign.set_defaults(run=run_presign)

    canonical = sub.add_parser(
        "canonical",
        help="print the canonical request and string to sign",
        description="Print the canonical request (redacted) and the string to "
        "sign of a request, as `send` would sign it, without sending it.",
    )
    _add_signing_options(canonical)
    _add_request_options(canonical)
    canonical.set_defaults(run=run_canonical)


# -- building blocks ------------------------------------------------------------


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


# what the signer sets itself: one given here would be silently replaced
_SIGNER_SETS = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})


def _headers(raw: list[str]) -> list[tuple[str, str]]:
    from .signer import _NOT_IN_NAME, _controlled

    headers = []
    for number, item in enumerate(raw, 1):
        # values are never quoted in a message: a header may hold a token
        name, colon, value = item.partition(":")
        if not colon or not name or not _NOT_IN_NAME.isdisjoint(name):
            raise UsageError(f"header number {number} must look like 'Name: value'")
        if _controlled(name):
            raise UsageError(f"header number {number} has a control character")
        if _controlled(value):
            raise UsageError(
                f"header number {number} ({name}) has a control character in its value"
            )
        if name.lower() in _SIGNER_SETS:
            raise UsageError(
                f"header number {number} ({name}) is set by the signer: leave it out"
            )
        headers.append((name, value.strip()))
    return headers


def _data(raw: str | None) -> bytes | None:
    if raw is None:
        return None
    if raw == "@-":
        return sys.stdin.buffer.read()
    if raw.startswith("@"):
        try:
            with open(raw[1:], "rb") as file:
                return file.read()
        except OSError as exc:
            raise UsageError(f"cannot read {raw[1:]!r}: {exc.strerror}") from exc
    return raw.encode()


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{args.url!r} is not an http or https URL")
    service, region = infer_service_region(parts.hostname)
    service = args.service or service
    if not service:
        raise UsageError(
            f"cannot tell the service from {parts.hostname!r}: give --service"
        )
    region = args.region or region
    if not region:
        from .chain import resolve_region

        try:
            region = resolve_region(profile=args.profile)
        except NoRegionError as exc:
            raise UsageError(
                f"cannot tell the region from {parts.hostname!r}: give --region"
            ) from exc
    return service, region


def _credentials(args: argparse.Namespace) -> Credentials:
    from .chain import default_credentials

    return default_credentials(profile=args.profile).resolve()


def _method(args: argparse.Namespace, body: bytes | None) -> str:
    if args.method is not None:
        return str(args.method)
    return "POST" if body is not None else "GET"


def _build(
    args: argparse.Namespace, client: httpx.Client
) -> tuple[httpx.Request, str, str]:
    import httpx

    body = _data(args.data)
    service, region = _scope(args)
    try:
        request = client.build_request(
            _method(args, body), args.url, headers=_headers(args.headers), content=body
        )
    except (httpx.InvalidURL, ValueError) as exc:
        # the text may quote the URL or a header, which may hold a token
        raise UsageError(
            f"cannot build the request: the URL or a header is not valid "
            f"({type(exc).__name__})"
        ) from exc
    return request, service, region


def _auth(
    args: argparse.Namespace, credentials: Credentials, service: str, region: str
) -> Any:
    from .httpx_auth import SigV4Auth

    return SigV4Auth(
        credentials,
        region=region,
        service=service,
        unsigned_payload=args.unsigned_payload,
    )


def _show_signing(request: httpx.Request) -> None:
    from .httpx_auth import SigV4Auth
    from .redact import redact_canonical_request

    found = SigV4Auth.last_signing(request)
    if found is None:
        return
    canonical_request, string_to_sign = found
    print("* canonical request:", file=sys.stderr)
    print(redact_canonical_request(canonical_request), file=sys.stderr)
    print("* string to sign:", file=sys.stderr)
    print(string_to_sign, file=sys.stderr)


def _transport_failure(exc: Exception) -> str:
    """A message for a failed exchange that names the failure, not its text.

    The text of an HTTP stack's error may quote a header value (h11 does, for
    an illegal one), and headers carry the session token and the signature:
    only the class of the failure is shown.
    """
    import httpx

    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"the request timed out ({name})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to the server ({name})"
    if isinstance(exc, httpx.LocalProtocolError):
        return f"the request cannot be sent as valid HTTP ({name})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server's answer is not valid HTTP ({name})"
    if isinstance(exc, UnicodeError):
        return f"the request holds text that cannot be sent ({name})"
    return f"the exchange broke off ({name})"


def _guarded(run: Any, args: argparse.Namespace) -> int:
    """Run a subcommand, turning user errors into one line on stderr.

    sigv4's own messages never hold a secret, token or signature; any other
    failure is shown by its class only (see `_transport_failure`).
    """
    import httpx

    try:
        status: int = run(args)
    except UsageError as exc:
        return _fail(str(exc))
    except SigV4Error as exc:
        return _fail(str(exc))
    except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
        return _fail(f"the request failed: {_transport_failure(exc)}")
    except KeyboardInterrupt:
        return _fail("interrupted")
    return status


# -- the subcommands ------------------------------------------------------------


def run_send(args: argparse.Namespace) -> int:
    """`lambdalite send URL`: sign, send, print the answer."""
    return _guarded(_send, args)


def _send(args: argparse.Namespace) -> int:
    import httpx

    from .redact import redact_headers, redact_url

    with httpx.Client(timeout=args.timeout) as client:
        request, service, region = _build(args, client)
        auth = _auth(args, _credentials(args), service, region)

        # sign by hand through the auth flow so -v can show each signing
        flow = auth.sync_auth_flow(request)
        request = next(flow)
        while True:
            if args.verbose:
                _show_signing(request)
                raw = request.extensions.get("target") or request.url.raw_path
                target = redact_url(raw.decode("ascii"))
                print(f"> {request.method} {target}", file=sys.stderr)
                for name, value in redact_headers(request.headers.multi_items()):
                    print(f"> {name}: {value}", file=sys.stderr)
            response = client.send(request)
            try:
                request = flow.send(response)
            except StopIteration:
                break
            response.read()
            response.close()

        try:
            if args.verbose:
                print(
                    f"< HTTP/1.1 {response.status_code} {response.reason_phrase}",
                    file=sys.stderr,
                )
            if args.include:
                out = sys.stdout
                out.write(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\n")
                for name, value in redact_headers(response.headers.multi_items()):
                    out.write(f"{name}: {value}\n")
                out.write("\n")
                out.flush()
            for piece in response.iter_bytes():
                sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()
        finally:
            response.close()
    return 0 if response.status_code < 400 else 1


def run_presign(args: argparse.Namespace) -> int:
    """`lambdalite presign URL`: print a presigned URL."""
    return _guarded(_presign, args)


def _presign(args: argparse.Namespace) -> int:
    from .signer import presign

    service, region = _scope(args)
    url = presign(
        (args.method or "GET").upper(),
        args.url,
        credentials=_credentials(args),
        region=region,
        service=service,
        expires=args.expires,
    )
    print(url.url)
    return 0


def run_canonical(args: argparse.Namespace) -> int:
    """`lambdalite canonical URL`: print what would be signed, not the signature."""
    return _guarded(_canonical, args)


def _canonical(args: argparse.Namespace) -> int:
    import httpx

    with httpx.Client() as client:
        request, service, region = _build(args, client)
        credentials = _credentials(args)
        auth = _auth(args, credentials, service, region)
        auth.sign_request(request, credentials)
    found = auth.last_signing(request)
    if found is None:
        raise SigningError("the request was not signed")
    from .redact import redact_canonical_request

    canonical_request, string_to_sign = found
    print("canonical request:")
    print(redact_canonical_request(canonical_request))
    print()
    print("string to sign:")
    print(string_to_sign)
    return 0
