"""Start and stop the real servers the integration tests talk to.

Every server listens on 127.0.0.1 on a free port, runs in its own process group
and writes its log into the session's temporary directory. At session end each
group is stopped (SIGTERM, then SIGKILL after a few seconds), whatever happened.
The group ids are also written, one a line, to the file named by the
environment variable LAMBDALITE_SERVER_PIDS when it is set: `scripts/test` reads
it on exit and stops any group a crashed session left behind. The temporary
directory goes under LAMBDALITE_SERVER_DIR when that is set, which
`scripts/test` removes on exit.

Starting never waits without bound: each server gets a fixed time to answer, and
a server that exits or stays silent raises `ServerError` with its log's tail.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

import sigv4

HOST = "127.0.0.1"
REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent.parent
DYNALITE_CLI = ROOT / ".servers" / "node_modules" / "dynalite" / "cli.js"
PID_FILE_VARIABLE = "LAMBDALITE_SERVER_PIDS"
DIR_VARIABLE = "LAMBDALITE_SERVER_DIR"


class ServerError(Exception):
    """A server could not be installed, started or set up."""


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and how to sign for it.

    `virtual_host_endpoint` is set for servers that also answer S3's virtual-host
    style (Swift, `storage_domain = localhost`): the bucket name goes in front
    of its host (see `virtual_host_url`). Names under localhost need not
    resolve (they do not through this machine's /etc/hosts), so sign the
    virtual-host URL, then send its path to `endpoint` with the signed Host
    header. `role_arn` names a role `credentials` may assume (moto only).
    """

    name: str
    endpoint: str
    region: str
    credentials: sigv4.Credentials
    virtual_host_endpoint: str | None = None
    role_arn: str | None = None

    def virtual_host_url(self, bucket: str, key: str = "") -> str:
        """The virtual-host style URL of a bucket (and key) on this server."""
        if self.virtual_host_endpoint is None:
            raise ServerError(f"{self.name} has no virtual-host endpoint")
        scheme, _, host = self.virtual_host_endpoint.partition("://")
        return f"{scheme}://{bucket}.{host}/{key}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return f"--- last lines of {path} ---\n" + "\n".join(tail)


class Processes:
    """The server processes of one test session, each in its own process group."""

    def __init__(self) -> None:
        parent = os.environ.get(DIR_VARIABLE) or None
        self.workdir = Path(tempfile.mkdtemp(prefix="lambdalite-servers-", dir=parent))
        self._running: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._pid_file = os.environ.get(PID_FILE_VARIABLE)

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> tuple[subprocess.Popen[bytes], Path]:
        """Start `argv` in a new process group, logging to `<name>.log`."""
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=cwd or self.workdir,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ServerError(f"cannot run {argv[0]}: {exc}") from exc
        self._running.append((name, process))
        if self._pid_file:
            with open(self._pid_file, "a") as pids:
                pids.write(f"{process.pid}\n")
        return process, log

    def stop_all(self, *, keep_logs: bool = False) -> None:
        """Stop every group started here, newest first, and remove the workdir."""
        for _, process in reversed(self._running):
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for _, process in reversed(self._running):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # children of the leader may outlive it: the group goes in any case
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=2)
        self._forget([process.pid for _, process in self._running])
        self._running.clear()
        if not keep_logs:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _forget(self, pids: list[int]) -> None:
        # take stopped groups out of the shared file so nothing kills them later
        if not self._pid_file or not pids:
            return
        gone = {str(pid) for pid in pids}
        with contextlib.suppress(OSError):
            path = Path(self._pid_file)
            kept = [p for p in path.read_text().split() if p not in gone]
            path.write_text("".join(f"{p}\n" for p in kept))


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # the group id is the leader's pid (start_new_session); a group whose
    # members are all gone raises ProcessLookupError
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    what: str,
    timeout: float = 30.0,
) -> None:
    """Poll `ready` every 0.1 s until it holds, the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"{what} exited with status {process.returncode}\n{log_tail(log)}"
            )
        with contextlib.suppress(OSError, httpx.HTTPError):
            if ready():
                return
        time.sleep(0.1)
    raise ServerError(f"{what} did not answer within {timeout:.0f} s\n{log_tail(log)}")


def port_open(port: int) -> Callable[[], bool]:
    """A readiness check: something accepts TCP connections on the port."""

    def check() -> bool:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True

    return check


# -- moto ----------------------------------------------------------------------

_MOTO_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:*", "dynamodb:*", "sts:*"],
            "Resource": "*",
        }
    ],
}


def start_moto(processes: Processes) -> Server:
    """moto in server mode with signature checking on, and an IAM user for it.

    The user may do `s3:*`, `dynamodb:*` and `sts:*`, and may assume a role with
    the same rights (`Server.role_arn`), which is how temporary credentials are
    obtained: moto honours the session tokens of assumed roles only.
    """
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    process, log = processes.start("moto", argv)
    endpoint = f"http://{HOST}:{port}"
    wait_until(
        lambda: httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code == 200,
        process,
        log,
        what="moto_server",
    )

    credentials, role_arn = _moto_iam_setup(endpoint)

    # from now on every request must be signed by a known key
    answer = httpx.post(
        f"{endpoint}/moto-api/reset-auth",
        content=b"0",
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    if answer.status_code != 200:
        raise ServerError(f"moto refused reset-auth: {answer.status_code}")
    server = Server("moto", endpoint, REGION, credentials, role_arn=role_arn)
    _check_moto_auth(server)
    return server


def _moto_iam_setup(endpoint: str) -> tuple[sigv4.Credentials, str]:
    import boto3  # type: ignore[import-untyped]  # test-only oracle, IAM set-up

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    user = iam.create_user(UserName="lambdalite-tests")["User"]
    iam.put_user_policy(
        UserName="lambdalite-tests",
        PolicyName="everything-tested",
        PolicyDocument=json.dumps(_MOTO_POLICY),
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user["Arn"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName="lambdalite-tests-role",
        AssumeRolePolicyDocument=json.dumps(trust),
    )["Role"]
    iam.put_role_policy(
        RoleName="lambdalite-tests-role",
        PolicyName="everything-tested",
        PolicyDocument=json.dumps(_MOTO_POLICY),
    )
    key = iam.create_access_key(UserName="lambdalite-tests")["AccessKey"]
    credentials = sigv4.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    return credentials, str(role["Arn"])


def _check_moto_auth(server: Server) -> None:
    """Signature checking is on: a wrong secret gets 403 SignatureDoesNotMatch."""
    wrong = sigv4.Credentials(server.credentials.access_key_id, "not-the-secret")
    for credentials, expected in ((wrong, 403), (server.credentials, 200)):
        signed = sigv4.sign(
            "GET",
            f"{server.endpoint}/",
            credentials=credentials,
            region=server.region,
            service="s3",
        )
        answer = httpx.get(signed.url, headers=signed.headers, timeout=5)
        if answer.status_code != expected:
            raise ServerError(
                f"moto answered ListBuckets with {answer.status_code}, "
                f"expected {expected}: {answer.text[:300]}"
            )
        if expected == 403 and b"SignatureDoesNotMatch" not in answer.content:
            raise ServerError(f"moto's 403 is not SignatureDoesNotMatch: {answer.text}")


# -- dynalite ------------------------------------------------------------------


# dynalite's own cli.js takes --host from version 4 only (version 3, for
# Debian 12's node 18, listens on every address): this launcher binds
# 127.0.0.1 on either, with the options cli.js would pass.
_DYNALITE_LAUNCHER = """\
const [main, port] = process.argv.slice(1);
const options = {createTableMs: 0, deleteTableMs: 0, updateTableMs: 0};
const server = require(main)(options);
server.listen(Number(port), "127.0.0.1", () => {
  console.log("dynalite listening on 127.0.0.1:" + server.address().port);
});
"""


def start_dynalite(processes: Processes) -> Server:
    """dynalite, DynamoDB's validation in node; it checks signatures' presence."""
    node = shutil.which("node")
    if node is None:
        raise ServerError("node is not installed (scripts/install-servers)")
    if not DYNALITE_CLI.is_file():
        raise ServerError(f"{DYNALITE_CLI} is missing (scripts/install-servers)")
    port = free_port()
    main = str(DYNALITE_CLI.parent / "index.js")
    argv = [node, "-e", _DYNALITE_LAUNCHER, main, str(port)]
    process, log = processes.start("dynalite", argv)
    wait_until(port_open(port), process, log, what="dynalite")
    credentials = sigv4.Credentials("AKIDDYNALITE", secrets.token_hex(8))
    return Server("dynalite", f"http://{HOST}:{port}", REGION, credentials)


# -- OpenStack Swift with s3api --------------------------------------------------

SWIFT_PYTHON = "/usr/bin/python3"  # the Debian packages' interpreter
SWIFT_USER = ("test:tester", "testing")

# The Debian scripts read /etc/swift/swift.conf; this launcher points Swift at
# the session's own swift.conf first, then runs the server as its script would.
# Swift logs to syslog too, through a UDP socket on every address when there is
# no /dev/log: that handler is replaced by one that drops the records, and the
# console copy (verbose) goes to the server's log file.
_SWIFT_LAUNCHER = """\
import logging
import sys
from swift.common import constraints, storage_policy, utils
class NoSyslog(logging.NullHandler):
    def __init__(self, *args, **kwargs):
        super().__init__()
utils.ThreadSafeSysLogHandler = NoSyslog
utils.set_swift_dir(sys.argv[1])
storage_policy.reload_storage_policies()
constraints.reload_constraints()
from swift.common.wsgi import run_wsgi
options = {"verbose": True}
if sys.argv[3] == "object-server":
    from swift.obj import server
    options["global_conf_callback"] = server.global_conf_callback
sys.exit(run_wsgi(sys.argv[2], sys.argv[3], **options))
"""

_SWIFT_DEFAULT = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
user = {user}
swift_dir = {workdir}
devices = {workdir}/devices
mount_check = false
log_level = INFO
"""

_SWIFT_STORAGE_SERVER = """\
[pipeline:main]
pipeline = {name}-server

[app:{name}-server]
use = egg:swift#{name}
"""

_SWIFT_PROXY = """\
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats
    bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging
    proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = {region}
storage_domain = localhost

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached_port}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes

[filter:symlink]
use = egg:swift#symlink
"""


def start_swift(processes: Processes) -> Server:
    """OpenStack Swift's proxy, account, container and object servers with s3api.

    One device, one replica, rings built for this session's ports, tempauth's
    `test:tester` / `testing`, memcached. Path style on `Server.endpoint`;
    virtual-host style (`storage_domain = localhost`) on
    `Server.virtual_host_endpoint`, see `Server`.
    """
    if shutil.which("memcached") is None:
        raise ServerError("memcached is not installed (scripts/install-servers)")
    if not Path(SWIFT_PYTHON).is_file():
        raise ServerError(f"{SWIFT_PYTHON} is missing")
    workdir = processes.workdir / "swift"
    (workdir / "devices" / "d1").mkdir(parents=True)
    _check_xattrs(workdir / "devices" / "d1")

    ports = {
        name: free_port()
        for name in ("proxy", "account", "container", "object", "memcached")
    }
    _write_swift_config(workdir, ports)
    _build_rings(workdir, ports)

    # memcached first, then the four servers, all at once
    memcached = ["memcached", "-l", HOST, "-p", str(ports["memcached"]), "-U", "0"]
    if os.geteuid() == 0:
        memcached += ["-u", "root"]
    started = [("memcached", *processes.start("memcached", memcached))]
    # eventlet's green DNS costs a quarter of a second to import, and every
    # address here is a literal
    env = {**os.environ, "EVENTLET_NO_GREENDNS": "yes"}
    for name in ("account", "container", "object", "proxy"):
        argv = [
            SWIFT_PYTHON,
            "-c",
            _SWIFT_LAUNCHER,
            str(workdir),
            str(workdir / f"{name}-server.conf"),
            f"{name}-server",
        ]
        started.append((name, *processes.start(f"swift-{name}", argv, env=env)))
    for name, process, log in started:
        wait_until(port_open(ports[name]), process, log, what=f"swift {name}")

    endpoint = f"http://{HOST}:{ports['proxy']}"
    server = Server(
        "swift",
        endpoint,
        REGION,
        sigv4.Credentials(*SWIFT_USER),
        virtual_host_endpoint=f"http://localhost:{ports['proxy']}",
    )
    proxy, proxy_log = started[-1][1], started[-1][2]
    wait_until(
        lambda: httpx.get(f"{endpoint}/healthcheck", timeout=2).status_code == 200,
        proxy,
        proxy_log,
        what="swift proxy",
    )
    _check_swift_auth(server, proxy_log)
    return server


def _check_xattrs(directory: Path) -> None:
    probe = directory / ".xattr-probe"
    probe.touch()
    try:
        os.setxattr(probe, "user.probe", b"1")
    except OSError as exc:
        raise ServerError(
            f"{directory} has no user extended attributes, which Swift needs: {exc}"
        ) from exc
    finally:
        probe.unlink()


def _write_swift_config(workdir: Path, ports: dict[str, int]) -> None:
    (workdir / "swift.conf").write_text(
        "[swift-hash]\n"
        f"swift_hash_path_prefix = {secrets.token_hex(8)}\n"
        f"swift_hash_path_suffix = {secrets.token_hex(8)}\n\n"
        "[storage-policy:0]\nname = gold\ndefault = yes\n"
    )
    user = "root" if os.geteuid() == 0 else _current_user()
    for name in ("account", "container", "object", "proxy"):
        text = _SWIFT_DEFAULT.format(port=ports[name], user=user, workdir=workdir)
        if name == "proxy":
            text += "\n" + _SWIFT_PROXY.format(
                region=REGION, memcached_port=ports["memcached"]
            )
        else:
            text += "\n" + _SWIFT_STORAGE_SERVER.format(name=name)
        (workdir / f"{name}-server.conf").write_text(text)


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


# swift-ring-builder's own library, in one process: three rings of one device
# and one replica each (one `swift-ring-builder` run costs about 0.7 s)
_RING_BUILDER = """\
import sys
from swift.common.ring import RingBuilder
for name, port in zip(("account", "container", "object"), sys.argv[1:]):
    builder = RingBuilder(2, 1, 1)
    builder.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1",
                     "port": int(port), "device": "d1", "weight": 1.0})
    builder.rebalance()
    builder.get_ring().save(f"{name}.ring.gz")
    builder.save(f"{name}.builder")
"""


def _build_rings(workdir: Path, ports: dict[str, int]) -> None:
    argv = [SWIFT_PYTHON, "-c", _RING_BUILDER]
    argv += [str(ports[name]) for name in ("account", "container", "object")]
    result = subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise ServerError(f"building the rings failed: {result.stderr[-2000:]}")


def _check_swift_auth(server: Server, log: Path) -> None:
    """s3api answers a ListBuckets signed by `sigv4` with 200."""
    signed = sigv4.sign(
        "GET",
        f"{server.endpoint}/",
        credentials=server.credentials,
        region=server.region,
        service="s3",
    )
    answer = httpx.get(signed.url, headers=signed.headers, timeout=10)
    if answer.status_code != 200:
        raise ServerError(
            f"swift answered a signed ListBuckets with {answer.status_code}: "
            f"{answer.text[:500]}\n{log_tail(log)}"
        )
