"""The shared config and credentials files: a small INI reader and profiles.

The files follow the AWS SDKs' INI dialect: `[section]` headers, `key = value`
settings, whole-line comments starting with `#` or `;`, and indented lines that
continue the setting above them (the nested `s3 =` style blocks). Keys are
compared in lower case. A bad line is reported by file and line number only:
its text may hold a secret key, so it is never quoted.

In the config file a profile is `[profile name]` (or `[default]`); in the
credentials file it is `[name]`. Settings in the credentials file win.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .errors import ConfigFileError

Sections = dict[str, dict[str, str]]


def parse(text: str, source: str) -> Sections:
    """Parse INI text into sections of settings; `source` names it in errors."""
    sections: Sections = {}
    current: dict[str, str] | None = None
    last_key: str | None = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue

        # continuation of the setting above
        if raw[0] in " \t" and current is not None and last_key is not None:
            current[last_key] = f"{current[last_key]}\n{line}".lstrip("\n")
            continue

        # section header
        if line.startswith("["):
            if not line.endswith("]") or not line[1:-1].strip():
                raise ConfigFileError(f"{source}, line {number}: bad section header")
            name = " ".join(line[1:-1].split())
            current = sections.setdefault(name, {})
            last_key = None
            continue

        # setting
        key, eq, value = line.partition("=")
        key = key.strip().lower()
        if not eq or not key:
            raise ConfigFileError(f"{source}, line {number}: expected 'key = value'")
        if current is None:
            raise ConfigFileError(
                f"{source}, line {number}: a setting before any [section]"
            )
        current[key] = value.strip()
        last_key = key

    return sections


def read(path: str) -> Sections:
    """Parse one file; a file that does not exist holds no sections."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {type(exc).__name__}") from None
    return parse(text, path)


def _path(environ: Mapping[str, str], variable: str, default: str) -> str:
    return os.path.expanduser(environ.get(variable) or default)


def config_path(environ: Mapping[str, str]) -> str:
    """The shared config file: `AWS_CONFIG_FILE` or ~/.aws/config."""
    return _path(environ, "AWS_CONFIG_FILE", "~/.aws/config")


def credentials_path(environ: Mapping[str, str]) -> str:
    """The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE` or default."""
    return _path(environ, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")


def profile_name(environ: Mapping[str, str], given: str | None = None) -> str:
    """The profile in use: as given, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`."""
    return (
        given
        or environ.get("AWS_PROFILE")
        or environ.get("AWS_DEFAULT_PROFILE")
        or "default"
    )


class Profiles:
    """The profiles of one config file and one credentials file."""

    def __init__(self, config: Sections, credentials: Sections) -> None:
        self.config: Sections = {}
        for section, settings in config.items():
            if section.startswith("profile "):
                self.config[section[8:].strip()] = settings
            elif section == "default":
                self.config.setdefault("default", settings)
        self.credentials = credentials

    @classmethod
    def load(cls, environ: Mapping[str, str]) -> Profiles:
        """Read both files as the environment points to them."""
        return cls(read(config_path(environ)), read(credentials_path(environ)))

    def __contains__(self, name: object) -> bool:
        return name in self.config or name in self.credentials

    def in_config(self, name: str) -> dict[str, str]:
        """The profile's settings from the config file alone."""
        return self.config.get(name, {})

    def in_credentials(self, name: str) -> dict[str, str]:
        """The profile's settings from the credentials file alone."""
        return self.credentials.get(name, {})

    def merged(self, name: str) -> dict[str, str]:
        """The profile's settings, the credentials file winning."""
        return {**self.in_config(name), **self.in_credentials(name)}
