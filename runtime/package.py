"""`lambdalite package`: a deployment zip for Lambda from a handler's sources.

What goes in, at the zip's root (Lambda unpacks it into `/var/task`):

- the handler's source directory, without caches, VCS folders, old bytecode,
  `.env` files (unless asked for), symlinked directories and symlinks to
  files outside it (each left out with a warning);
- lambdalite's `runtime` package (without the workstation-only modules: the
  command line, the local servers, this packager), and `sigv4` / `services`
  when asked for or when the handler's sources import them and do not hold
  a package of that name themselves. Sources with their own top-level
  `runtime` are refused: it would shadow the loop that `bootstrap` starts;
- the requirements, installed by pip for the target (`--platform`,
  `--python-version`, `--only-binary=:all:`), plus httpx when `services` is in;
- `bootstrap`, for the `provided.al2023` custom runtime, and
  `lambdalite-exec-wrapper`, for a managed Python runtime with
  `AWS_LAMBDA_EXEC_WRAPPER`; both exec `python -m runtime`.

Bytecode is compiled ahead of time by an interpreter of the *target* version
(the running one when it matches, else `pythonX.Y` on PATH or under pyenv),
as `__pycache__/*.cpython-3XY.pyc` with the `unchecked-hash` invalidation
mode: the pyc does not depend on file timestamps, which a zip does not keep
exactly, so Python uses it as is and never compiles or writes at cold start.
Without such an interpreter the zip is built without bytecode and a warning
says so.

The zip is reproducible: entries sorted, every timestamp 1980-01-01, modes
0644 (0755 for the two scripts and anything executable in the sources), and
compilation under a fixed hash seed.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PackageError as PackageError

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
PLATFORMS = ("manylinux2014_x86_64", "manylinux2014_aarch64")
OPTIONAL_PACKAGES = ("sigv4", "services")

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ZIP_LIMIT = 50 * 1024 * 1024
"""Lambda's limit on a zip uploaded directly."""
UNZIPPED_LIMIT = 250 * 1024 * 1024
"""Lambda's limit on the unzipped function and its layers."""

_SKIPPED_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", "node_modules"}
)  # fmt: skip
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# runtime modules for the workstation only: the CLI, the local servers, this
_DEV_ONLY = frozenset({"cli.py", "commands.py", "package.py", "local.py", "gateway.py"})
_IMPORT = re.compile(r"^\s*(?:from|import)\s+(sigv4|services)\b", re.MULTILINE)
_HANDLER = re.compile(r"^(?:[\w.-]+/)*[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")

BOOTSTRAP = """\
#!/bin/sh
# lambdalite: run the Runtime API loop on the provided.al2023 custom runtime.
# provided.al2023 has no Python of its own: attach a layer that puts
# python{version} on PATH (Lambda's PATH includes /opt/bin), or point
# LAMBDALITE_PYTHON at an interpreter. The bytecode in this zip is for
# Python {version}; another version still runs, but compiles at each start.
set -eu
task_root="${{LAMBDA_TASK_ROOT:-$(cd "$(dirname "$0")" && pwd)}}"
python="${{LAMBDALITE_PYTHON:-}}"
if [ -z "$python" ]; then
    for candidate in python{version} /opt/python/bin/python{version} python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            python="$candidate"
            break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "lambdalite bootstrap: no python{version} on PATH; add a Python layer" \\
        "or set LAMBDALITE_PYTHON" >&2
    exit 127
fi
export PYTHONPATH="$task_root${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$python" -m runtime
"""

EXEC_WRAPPER = """\
#!/bin/sh
# lambdalite: use the loop instead of AWS's runtime client on a managed
# Python {version} runtime. Set on the function:
#     AWS_LAMBDA_EXEC_WRAPPER=/var/task/lambdalite-exec-wrapper
# Lambda calls this script with the managed runtime's own start command as
# arguments; they are not used: the same interpreter runs lambdalite's loop.
set -eu
task_root="${{LAMBDA_TASK_ROOT:-$(cd "$(dirname "$0")" && pwd)}}"
python="${{LAMBDALITE_PYTHON:-/var/lang/bin/python3}}"
if [ ! -x "$python" ]; then
    python=python3
fi
export PYTHONPATH="$task_root${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$python" -m runtime
"""


@dataclass
class Report:
    """What a build produced."""

    output: Path
    size: int
    files: int
    unzipped_size: int
    packages: list[str]
    compiled_with: str | None
    warnings: list[str] = field(default_factory=list)


def build(
    source_dir: str | os.PathLike[str],
    handler: str,
    output: str | os.PathLike[str],
    *,
    python: str = "3.12",
    platform: str = PLATFORMS[0],
    requirements: str | os.PathLike[str] | None = None,
    include: Iterable[str] = (),
    find_links: Sequence[str] = (),
    no_index: bool = False,
    compile_bytecode: bool = True,
    interpreter: str | None = None,
    include_env_files: bool = False,
) -> Report:
    """Build the deployment zip for `handler` from `source_dir` at `output`.

    `interpreter` compiles the bytecode; by default one of version `python`
    is looked for (see `find_interpreter`). An `output` that is a directory
    gets `<source dir name>.zip` inside it. `.env` files are left out unless
    `include_env_files`.
    """
    source = Path(source_dir)
    _check_inputs(source, handler, python, platform, include)
    if Path(output).is_dir():
        output = Path(output) / f"{source.resolve().name or 'function'}.zip"
    warnings: list[str] = []
    own = _own_top_level(source)
    if "runtime" in own:
        raise PackageError(
            f"{str(source)!r} has its own top-level 'runtime' module, which would "
            "replace lambdalite's loop in the zip (python -m runtime): rename it"
        )
    for name in include:
        if name in own:
            raise PackageError(
                f"--include {name} clashes with the sources' own top-level "
                f"{name!r} module: rename one of them"
            )
    # a package the sources hold themselves is theirs, whatever they import
    wanted = sorted((set(include) | detect_packages(source)) - own)
    if "services" in wanted and "sigv4" not in wanted:
        if "sigv4" in own:
            raise PackageError(
                "lambdalite's services needs its sigv4, but the sources have "
                "their own top-level 'sigv4' module: rename it"
            )
        wanted = sorted([*wanted, "sigv4"])

    with tempfile.TemporaryDirectory(prefix="lambdalite-package-") as scratch:
        stage = Path(scratch) / "task"
        stage.mkdir()

        # the dependencies first, so that the code wins over a same-named module
        extra = ["httpx>=0.27"] if "services" in wanted else []
        if requirements is not None or extra:
            _pip_install(
                stage, requirements, extra,
                python=python, platform=platform,
                find_links=find_links, no_index=no_index,
            )  # fmt: skip

        # the handler's sources (not an earlier zip), then lambdalite's packages
        partial = Path(output).resolve()
        _copy_tree(
            source,
            stage,
            skip={partial, partial.with_name(partial.name + ".partial")},
            warnings=warnings,
            env_files=include_env_files,
        )
        runtime_dir = _package_dir("runtime")
        dev_only = {runtime_dir / name for name in _DEV_ONLY}
        _copy_tree(runtime_dir, stage / "runtime", skip=dev_only)
        for name in wanted:
            _copy_tree(_package_dir(name), stage / name)
        _write_script(stage / "bootstrap", BOOTSTRAP.format(version=python))
        _write_script(
            stage / "lambdalite-exec-wrapper", EXEC_WRAPPER.format(version=python)
        )

        # bytecode for the target interpreter
        compiled_with = None
        if compile_bytecode:
            compiled_with = interpreter or find_interpreter(python)
            if compiled_with is None:
                warnings.append(
                    f"no Python {python} interpreter found (not running, not "
                    f"python{python} on PATH, not under pyenv): the zip has no "
                    "bytecode, so each cold start compiles in memory"
                )
            else:
                warnings.extend(compile_tree(stage, compiled_with, python))
        else:
            warnings.append("bytecode not compiled (--no-compile)")

        files, unzipped = write_zip(stage, Path(output))

    size = Path(output).stat().st_size
    if size > ZIP_LIMIT:
        warnings.append(f"the zip is over Lambda's {ZIP_LIMIT} byte upload limit")
    if unzipped > UNZIPPED_LIMIT:
        warnings.append(f"unzipped it is over Lambda's {UNZIPPED_LIMIT} byte limit")
    return Report(
        Path(output), size, files, unzipped, ["runtime", *wanted], compiled_with,
        warnings,
    )  # fmt: skip


def detect_packages(source: Path) -> set[str]:
    """The lambdalite packages the sources import (`sigv4`, `services`)."""
    found: set[str] = set()
    for path in _walk(source):
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8", errors="replace")
            found.update(_IMPORT.findall(text))
    return found


def find_interpreter(version: str) -> str | None:
    """A Python of `version` (`3.12`): the running one, PATH, or pyenv."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    candidates = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pattern = os.path.join(pyenv_root, "versions", f"{version}.*", "bin")
    for bin_dir in sorted(glob.glob(pattern), reverse=True):
        candidates.append(os.path.join(bin_dir, f"python{version}"))
    for candidate in candidates:
        if _reports_version(candidate, version):
            return candidate
    return None


def compile_tree(stage: Path, interpreter: str, version: str) -> list[str]:
    """Compile every module under `stage` with `interpreter`; return warnings."""
    if not _reports_version(interpreter, version):
        raise PackageError(f"{interpreter} is not a Python {version} interpreter")
    command = [
        interpreter, "-m", "compileall", "-q", "-f",
        "--invalidation-mode", "unchecked-hash",
        "-s", str(stage), "-p", "/var/task", str(stage),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # a file that does not compile (a Python 2 leftover in a dependency)
        # is left as source; the rest is compiled
        lines = (done.stdout + done.stderr).strip().splitlines()
        detail = "; ".join(lines[-3:])
        return [f"some files did not compile for Python {version}: {detail}"]
    return []


def write_zip(stage: Path, output: Path) -> tuple[int, int]:
    """Zip `stage` reproducibly; return the file count and unzipped size."""
    entries = sorted(
        path.relative_to(stage).as_posix()
        for path in stage.rglob("*")
        if path.is_file()
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    unzipped = 0
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in entries:
            path = stage / name
            executable = os.access(path, os.X_OK)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so that the mode below is read
            mode = 0o755 if executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            zf.writestr(info, data, compresslevel=9)
    partial.replace(output)
    return len(entries), unzipped


def _check_inputs(
    source: Path, handler: str, python: str, platform: str, include: Iterable[str]
) -> None:
    if not source.is_dir():
        raise PackageError(f"source directory {str(source)!r} does not exist")
    if python not in PYTHON_VERSIONS:
        raise PackageError(f"--python must be one of {', '.join(PYTHON_VERSIONS)}")
    if platform not in PLATFORMS:
        raise PackageError(f"--platform must be one of {', '.join(PLATFORMS)}")
    for name in include:
        if name not in OPTIONAL_PACKAGES:
            raise PackageError(f"--include takes sigv4 or services, not {name!r}")
    if not _HANDLER.match(handler):
        raise PackageError(
            f"handler {handler!r} is not module.function or path/module.function"
        )
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    if (
        not (source / f"{module}.py").is_file()
        and not (source / module / "__init__.py").is_file()
    ):
        raise PackageError(f"handler module {module!r} not found in {str(source)!r}")


def _package_dir(name: str) -> Path:
    if name == "runtime":
        return Path(__file__).resolve().parent
    module = __import__(name)
    return Path(module.__file__ or "").resolve().parent


def _own_top_level(source: Path) -> set[str]:
    """Which of lambdalite's package names the sources define at their root."""
    return {
        name
        for name in ("runtime", *OPTIONAL_PACKAGES)
        if (source / name).is_dir() or (source / f"{name}.py").exists()
    }


def _is_env_file(name: str) -> bool:
    # `.env`, `.env.local`, `.env.production`: dotenv files hold secrets
    return name == ".env" or name.startswith(".env.")


def _walk(
    root: Path,
    skip: frozenset[Path] = frozenset(),
    warnings: list[str] | None = None,
    *,
    env_files: bool = True,
) -> Iterable[Path]:
    """The files under `root` to package, in order.

    Symlinked directories are not followed, and a symlinked file is followed
    only when it points inside `root`; both are reported in `warnings`, and
    so are `.env` files left out (unless `env_files`).
    """
    inside = root.resolve()
    notes = warnings if warnings is not None else []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in sorted(dirs):
            if name not in _SKIPPED_DIRS and (here / name).is_symlink():
                relative = (here / name).relative_to(root).as_posix()
                notes.append(
                    f"{relative}: a symlinked directory, not followed (left out)"
                )
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIPPED_DIRS and not (here / d).is_symlink()
        )
        for name in sorted(files):
            path = here / name
            relative = path.relative_to(root).as_posix()
            if name.endswith(_SKIPPED_SUFFIXES) or path.resolve() in skip:
                continue
            if not env_files and _is_env_file(name):
                notes.append(
                    f"{relative}: a .env file, left out (--include-env-files "
                    "to package it)"
                )
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_file() or not target.is_relative_to(inside):
                    notes.append(
                        f"{relative}: a symlink to a file outside the source "
                        "directory (or to nothing), left out"
                    )
                    continue
            yield path


def _copy_tree(
    source: Path,
    target: Path,
    skip: set[Path] | None = None,
    warnings: list[str] | None = None,
    *,
    env_files: bool = True,
) -> None:
    for path in _walk(source, frozenset(skip or ()), warnings, env_files=env_files):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        if os.access(path, os.X_OK):
            destination.chmod(0o755)


def _write_script(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def _pip_install(
    stage: Path,
    requirements: str | os.PathLike[str] | None,
    extra: list[str],
    *,
    python: str,
    platform: str,
    find_links: Sequence[str],
    no_index: bool,
) -> None:
    arch = "aarch64" if platform.endswith("aarch64") else "x86_64"
    # AL2023 has glibc 2.34: newer manylinux tags fit too
    platforms = [platform, f"manylinux_2_28_{arch}", f"manylinux_2_34_{arch}"]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--disable-pip-version-check", "--no-warn-script-location",
        "--target", str(stage), "--implementation", "cp",
        "--python-version", python, "--only-binary=:all:",
    ]  # fmt: skip
    for tag in platforms:
        command += ["--platform", tag]
    for link in find_links:
        command += ["--find-links", link]
    if no_index:
        command.append("--no-index")
    if requirements is not None:
        if not Path(requirements).is_file():
            raise PackageError(f"requirements file {str(requirements)!r} not found")
        command += ["--requirement", str(requirements)]
    command += extra
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise PackageError(f"pip could not install the requirements:\n{tail}")
    # console scripts carry this machine's interpreter path: useless on Lambda
    shutil.rmtree(stage / "bin", ignore_errors=True)


def _reports_version(interpreter: str, version: str) -> bool:
    try:
        done = subprocess.run(
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


# ---------------------------------------------------------------- command


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the `package` subcommand."""
    parser = sub.add_parser(
        "package",
        help="build a deployment zip for Lambda",
        description="Build a deployment zip: the handler's code, lambdalite, its "
        "requirements, bytecode for the target Python, and a bootstrap.",
    )
    parser.add_argument("source_dir", metavar="SOURCE_DIR")
    parser.add_argument(
        "--handler", required=True, help="module.function, as Lambda's _HANDLER"
    )
    parser.add_argument("-o", "--output", default="function.zip", help="zip path")
    parser.add_argument("--requirements", metavar="FILE", help="pip requirements")
    parser.add_argument("--python", choices=PYTHON_VERSIONS, default="3.12")
    parser.add_argument("--platform", choices=PLATFORMS, default=PLATFORMS[0])
    parser.add_argument(
        "--include",
        action="append",
        choices=OPTIONAL_PACKAGES,
        default=[],
        help="add sigv4 or services even if the sources do not import them",
    )
    parser.add_argument("--find-links", action="append", default=[], metavar="DIR")
    parser.add_argument("--no-index", action="store_true", help="pip offline")
    parser.add_argument(
        "--no-compile", action="store_true", help="leave bytecode out of the zip"
    )
    parser.add_argument(
        "--interpreter", metavar="PATH", help="the Python that compiles bytecode"
    )
    parser.add_argument(
        "--include-env-files",
        action="store_true",
        help="package .env and .env.* files too (left out by default: they "
        "usually hold secrets)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, *, out: Callable[[str], None] = print) -> int:
    """Build the zip the parsed arguments describe; print its size."""
    try:
        report = build(
            args.source_dir,
            args.handler,
            args.output,
            python=args.python,
            platform=args.platform,
            requirements=args.requirements,
            include=args.include,
            find_links=args.find_links,
            no_index=args.no_index,
            compile_bytecode=not args.no_compile,
            interpreter=args.interpreter,
            include_env_files=args.include_env_files,
        )
    except PackageError as exc:
        print(f"lambdalite package: {exc}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"lambdalite package: warning: {warning}", file=sys.stderr)
    compiled = (
        f"bytecode for Python {args.python}" if report.compiled_with else "no bytecode"
    )
    out(
        f"{report.output}: {report.size} bytes ({report.size / 1024:.1f} KiB), "
        f"{report.files} files, {report.unzipped_size} bytes unzipped, "
        f"{' + '.join(report.packages)}, {compiled}"
    )
    return 0
