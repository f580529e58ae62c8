"""`lambdalite package`: the zip's contents, and running it from a read-only dir.

The run goes through the zip's own `bootstrap` (and exec wrapper) against
lambdalite's local Runtime API (`runtime.local`), with an interpreter that has
no lambdalite installed, so everything it imports comes from the zip.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import package
from runtime.cli import main
from runtime.gateway import http_to_event, result_to_http
from tests.conftest import missing

HANDLER = """\
import sys

import runtime.events
import tinydep
from runtime.responses import json_response


def handler(event, context):
    req = runtime.events.request(event)
    number = req.json()["number"]
    return json_response(req, {
        "result": number * number,
        "tinydep": tinydep.VALUE,
        "runtime": runtime.events.__file__,
        "python": "%d.%d" % sys.version_info[:2],
        "request_id": context.aws_request_id,
    })
"""


def make_wheel(folder: Path) -> None:
    """A minimal pure wheel, `tinydep 1.0`, so that pip needs no network."""
    dist = "tinydep-1.0.dist-info"
    files = {
        "tinydep/__init__.py": "VALUE = 42\n",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    files[f"{dist}/RECORD"] = record
    with zipfile.ZipFile(folder / "tinydep-1.0-py3-none-any.whl", "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A handler directory with a requirement and a local wheel for it."""
    src = tmp_path / "src"
    (src / "tools").mkdir(parents=True)
    (src / "app.py").write_text(HANDLER)
    (src / "tools" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "tools" / "run.sh").chmod(0o755)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"stale")
    (src / "requirements.txt").write_text("tinydep==1.0\n")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    return src


def build(sources: Path, out: Path, **kwargs: object) -> package.Report:
    return package.build(
        sources,
        "app.handler",
        out,
        requirements=sources / "requirements.txt",
        find_links=[str(sources.parent / "wheels")],
        no_index=True,
        **kwargs,  # type: ignore[arg-type]
    )


def base_python(version: str) -> str:
    """An interpreter of `version` without lambdalite installed."""
    if version == "{}.{}".format(*sys.version_info[:2]):
        found: str | None = getattr(sys, "_base_executable", None)
    else:
        found = package.find_interpreter(version)
    if not found:
        missing(f"no Python {version} interpreter to run the zip with")
    assert found is not None
    probe = subprocess.run(
        [found, "-c", "import runtime"], capture_output=True, env=_clean_env(), cwd="/"
    )
    assert probe.returncode != 0, f"{found} can import runtime without the zip"
    return found


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
        env.pop(name, None)
    return env


def listing(root: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    )


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "task"
    folder.mkdir()
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)


def unpack_read_only(zip_path: Path, folder: Path) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = folder / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def invoke_packaged(folder: Path, command: list[str], python: str) -> dict[str, object]:
    """POST {"number": 3} through the zip's entry point; the decoded answer."""
    from runtime.local import LocalRuntimeAPI

    env = {
        "LAMBDALITE_PYTHON": python,
        # empty is unset for Python: nothing from this machine leaks in
        "PYTHONPATH": "",
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": "",
    }
    event = http_to_event(
        "POST", "/", [("Content-Type", "application/json")], b'{"number": 3}'
    )
    api = LocalRuntimeAPI(
        command, handler="app.handler", task_root=str(folder), timeout=30, env=env
    )
    with api:
        outcome = api.invoke(json.dumps(event).encode(), wait=60)
    assert outcome.ok, outcome.payload
    status, _, body = result_to_http(outcome.json(), version="2.0")
    assert status == 200, body
    answer: dict[str, object] = json.loads(body)
    return answer


# ---------------------------------------------------------------- contents


def test_zip_holds_code_runtime_dependency_and_scripts(
    sources: Path, tmp_path: Path
) -> None:
    report = build(sources, tmp_path / "f.zip", python="3.11")
    with zipfile.ZipFile(report.output) as zf:
        names = zf.namelist()
        infos = {info.filename: info for info in zf.infolist()}
        bootstrap = zf.read("bootstrap").decode()
    assert names == sorted(names)
    for name in ("app.py", "tinydep/__init__.py", "runtime/loop.py", "bootstrap"):
        assert name in names
    assert "lambdalite-exec-wrapper" in names
    assert "tinydep-1.0.dist-info/METADATA" in names
    # workstation-only modules and the sources' stale bytecode stay out
    assert "runtime/local.py" not in names
    assert "runtime/package.py" not in names
    assert "__pycache__/stale.cpython-311.pyc" not in names
    assert not any(n.startswith(("sigv4/", "services/", "httpx/")) for n in names)
    assert bootstrap.startswith("#!/bin/sh\n")
    assert 'exec "$python" -m runtime' in bootstrap
    assert report.size == (tmp_path / "f.zip").stat().st_size
    assert report.packages == ["runtime"]

    for name, info in infos.items():
        assert info.date_time == (1980, 1, 1, 0, 0, 0), name
        mode = info.external_attr >> 16
        assert stat.S_ISREG(mode), name
        executable = name in ("bootstrap", "lambdalite-exec-wrapper", "tools/run.sh")
        assert stat.S_IMODE(mode) == (0o755 if executable else 0o644), name


def test_every_module_has_unchecked_hash_bytecode_for_the_target(
    sources: Path, tmp_path: Path
) -> None:
    report = build(sources, tmp_path / "f.zip", python="3.11")
    assert report.compiled_with is not None
    with zipfile.ZipFile(report.output) as zf:
        names = set(zf.namelist())
        modules = [n for n in names if n.endswith(".py")]
        assert modules
        for module in modules:
            folder, _, file = module.rpartition("/")
            prefix = f"{folder}/" if folder else ""
            pyc = f"{prefix}__pycache__/{file[:-3]}.cpython-311.pyc"
            assert pyc in names, module
            header = zf.read(pyc)[:16]
            # PEP 552: flags word 0b01 is hash-based, source not checked
            assert int.from_bytes(header[4:8], "little") == 0b01, pyc
        assert not any(".cpython-312" in n for n in names)


def test_zip_is_reproducible(sources: Path, tmp_path: Path) -> None:
    first = build(sources, tmp_path / "a.zip", python="3.11")
    (sources / "app.py").touch()  # a newer mtime changes nothing
    second = build(sources, tmp_path / "b.zip", python="3.11")
    assert first.output.read_bytes() == second.output.read_bytes()


def test_output_inside_the_sources_is_not_packed_again(sources: Path) -> None:
    out = sources / "function.zip"
    build(sources, out, python="3.11", compile_bytecode=False)
    build(sources, out, python="3.11", compile_bytecode=False)
    assert "function.zip" not in zipfile.ZipFile(out).namelist()


def test_no_interpreter_for_the_target_warns_and_leaves_bytecode_out(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "find_interpreter", lambda version: None)
    report = build(sources, tmp_path / "f.zip", python="3.13")
    assert report.compiled_with is None
    assert any("no Python 3.13 interpreter" in w for w in report.warnings)
    names = zipfile.ZipFile(report.output).namelist()
    assert not any(n.endswith(".pyc") for n in names)
    assert "python3.13" in zipfile.ZipFile(report.output).read("bootstrap").decode()


def test_detects_lambdalite_packages_the_sources_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import json\nfrom services import s3\n")
    (tmp_path / "b.py").write_text("x = 'import sigv4'  # in a string, not code\n")
    assert package.detect_packages(tmp_path) == {"services"}
    (tmp_path / "c.py").write_text("if True:\n    import sigv4.signer\n")
    assert package.detect_packages(tmp_path) == {"services", "sigv4"}


# ---------------------------------------------------------------- running it


def test_zip_runs_from_a_read_only_dir_and_writes_nothing(
    sources: Path, tmp_path: Path, read_only: Path
) -> None:
    python = base_python("3.11")
    report = build(sources, tmp_path / "f.zip", python="3.11")
    unpack_read_only(report.output, read_only)
    before = listing(read_only)

    answer = invoke_packaged(read_only, [str(read_only / "bootstrap")], python)
    assert answer["result"] == 9
    assert answer["tinydep"] == 42
    assert answer["python"] == "3.11"
    assert str(answer["runtime"]).startswith(str(read_only))

    # the managed-runtime way: Lambda runs the wrapper with its own command
    wrapper = [str(read_only / "lambdalite-exec-wrapper"), "/var/runtime/bootstrap"]
    assert invoke_packaged(read_only, wrapper, python)["result"] == 9

    # as root the chmod does not stop writes: the listing proves none happened
    assert listing(read_only) == before


def test_control_without_bytecode_the_same_run_does_write(
    sources: Path, tmp_path: Path, read_only: Path
) -> None:
    # shows the listing check above can fail: as root, Python writes caches
    if os.geteuid() != 0:
        missing("the control needs root, whom a read-only mode does not stop")
    python = base_python("3.11")
    report = build(sources, tmp_path / "f.zip", python="3.11", compile_bytecode=False)
    unpack_read_only(report.output, read_only)
    before = listing(read_only)
    assert invoke_packaged(read_only, [str(read_only / "bootstrap")], python)
    written = set(listing(read_only)) - set(before)
    assert any("__pycache__" in name for name, _, _ in written)


def test_zip_for_another_python_runs_under_that_python(
    sources: Path, tmp_path: Path, read_only: Path
) -> None:
    python = base_python("3.12")
    report = build(sources, tmp_path / "f.zip", python="3.12")
    names = zipfile.ZipFile(report.output).namelist()
    assert "runtime/__pycache__/loop.cpython-312.pyc" in names
    assert not any(".cpython-311" in n for n in names)
    unpack_read_only(report.output, read_only)
    before = listing(read_only)
    answer = invoke_packaged(read_only, [str(read_only / "bootstrap")], python)
    assert (answer["result"], answer["python"]) == (9, "3.12")
    assert listing(read_only) == before


# ---------------------------------------------------------------- command line


def test_command_prints_the_size(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.zip"
    status = main(
        [
            "package", str(sources), "--handler", "app.handler", "-o", str(out),
            "--requirements", str(sources / "requirements.txt"),
            "--find-links", str(tmp_path / "wheels"), "--no-index",
            "--python", "3.11",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0
    assert f"{out}: {out.stat().st_size} bytes" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--handler", "app"], "is not module.function"),
        (["--handler", "nothere.handler"], "handler module 'nothere' not found"),
        (["--handler", "app.handler", "--requirements", "/nope.txt"], "not found"),
    ],
)
def test_command_reports_bad_input(
    sources: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    status = main(["package", str(sources), "-o", str(tmp_path / "x.zip"), *args])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_missing_source_dir_is_a_package_error(tmp_path: Path) -> None:
    with pytest.raises(package.PackageError, match="does not exist"):
        package.build(tmp_path / "absent", "app.handler", tmp_path / "x.zip")


def test_pip_failure_is_a_package_error(sources: Path, tmp_path: Path) -> None:
    (sources / "requirements.txt").write_text("tinydep==9.9\n")
    with pytest.raises(package.PackageError, match="pip could not install"):
        build(sources, tmp_path / "f.zip", python="3.11")


def test_services_asks_pip_for_httpx(sources: Path, tmp_path: Path) -> None:
    # offline, with only tinydep on hand: pip is asked for httpx, and says so
    with pytest.raises(package.PackageError, match="httpx"):
        build(sources, tmp_path / "f.zip", python="3.11", include=["services"])


def test_wrong_version_interpreter_is_refused(sources: Path, tmp_path: Path) -> None:
    with pytest.raises(package.PackageError, match=r"not a Python 3\.12 interpreter"):
        build(sources, tmp_path / "f.zip", python="3.12", interpreter=sys.executable)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"python": "3.9"}, "--python must be one of"),
        ({"platform": "win_amd64"}, "--platform must be one of"),
        ({"include": ["boto3"]}, "--include takes"),
    ],
)
def test_bad_options_are_package_errors(
    sources: Path, tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(package.PackageError, match=message):
        build(sources, tmp_path / "f.zip", **kwargs)


# ---------------------------------------------------------------- source hazards


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """A handler directory without requirements: builds in well under a second."""
    src = tmp_path / "plain"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    return 1\n")
    return src


def quick(src: Path, out: Path, **kwargs: object) -> package.Report:
    return package.build(
        src,
        "app.handler",
        out,
        compile_bytecode=False,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("own", ["runtime/__init__.py", "runtime.py"])
def test_sources_with_their_own_runtime_are_refused(
    plain: Path, tmp_path: Path, own: str
) -> None:
    (plain / own).parent.mkdir(exist_ok=True)
    (plain / own).write_text("MINE = 1\n")
    with pytest.raises(package.PackageError, match="'runtime'"):
        quick(plain, tmp_path / "f.zip")
    assert not (tmp_path / "f.zip").exists()


def test_sources_own_services_package_is_theirs_not_lambdalites(
    plain: Path, tmp_path: Path
) -> None:
    (plain / "services").mkdir()
    (plain / "services" / "__init__.py").write_text("MINE = 1\n")
    (plain / "app.py").write_text("import services\ndef handler(e, c):\n    return 1\n")
    report = quick(plain, tmp_path / "f.zip")
    zf = zipfile.ZipFile(report.output)
    assert zf.read("services/__init__.py") == b"MINE = 1\n"
    assert "sigv4/__init__.py" not in zf.namelist()
    with pytest.raises(package.PackageError, match="'services'"):
        quick(plain, tmp_path / "g.zip", include=["services"])


def test_file_symlink_out_of_the_sources_is_skipped_with_a_warning(
    plain: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("do not ship")
    (plain / "secret.txt").symlink_to(outside)
    (plain / "inner.txt").write_text("shipped")
    (plain / "alias.txt").symlink_to(plain / "inner.txt")
    report = quick(plain, tmp_path / "f.zip")
    zf = zipfile.ZipFile(report.output)
    assert "secret.txt" not in zf.namelist()
    assert zf.read("alias.txt") == b"shipped"  # inside the sources: followed
    assert any("secret.txt" in w and "outside" in w for w in report.warnings)


def test_symlinked_directory_is_skipped_with_a_warning(
    plain: Path, tmp_path: Path
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mod.py").write_text("X = 1\n")
    (plain / "lib").symlink_to(tmp_path / "lib", target_is_directory=True)
    report = quick(plain, tmp_path / "f.zip")
    assert "lib/mod.py" not in zipfile.ZipFile(report.output).namelist()
    assert any("lib" in w and "symlink" in w for w in report.warnings)


def test_output_naming_a_directory_puts_the_zip_inside(
    plain: Path, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    report = quick(plain, dist)
    assert report.output == dist / "plain.zip"
    assert zipfile.ZipFile(dist / "plain.zip").read("app.py").startswith(b"def")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "plain"]


def test_env_files_are_left_out_unless_asked_for(plain: Path, tmp_path: Path) -> None:
    (plain / ".env").write_text("SECRET=1\n")
    (plain / "conf").mkdir()
    (plain / "conf" / ".env.production").write_text("SECRET=2\n")
    (plain / ".envrc.py").write_text("X = 1\n")  # not an env file
    report = quick(plain, tmp_path / "f.zip")
    names = zipfile.ZipFile(report.output).namelist()
    assert ".env" not in names and "conf/.env.production" not in names
    assert ".envrc.py" in names
    assert any(".env" in w and "--include-env-files" in w for w in report.warnings)

    report = quick(plain, tmp_path / "g.zip", include_env_files=True)
    names = zipfile.ZipFile(report.output).namelist()
    assert ".env" in names and "conf/.env.production" in names
