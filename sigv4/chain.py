"""Where credentials and the region come from: the standard chain.

The chain tries, in the order the AWS SDKs use: explicit credentials; the
environment; web identity from the environment; the shared config and
credentials files (profiles, roles, `credential_process`); container
credentials; EC2 instance metadata. The first source that is configured wins;
a source that is configured but fails stops the chain with its error, so a
broken profile is reported rather than skipped.
https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html

Nothing is resolved until `resolve()` is first called. Temporary credentials
are refreshed from the source that produced them: from 15 minutes before
expiry one caller refreshes while the others keep the current credentials (and
a failed refresh is only logged); from 10 minutes before expiry every caller
waits for a fresh set. One refresh runs at a time across threads and asyncio
tasks; `aresolve()` refreshes in a worker thread so the event loop never
blocks on files, processes or HTTP.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import threading
from collections.abc import Mapping, Sequence

from . import _ini
from ._providers import (
    ContainerProvider,
    EnvironmentProvider,
    InstanceMetadataProvider,
    ProfileProvider,
    Provider,
    StaticProvider,
    WebIdentityProvider,
)
from .credentials import Credentials
from .errors import CredentialsError, NoCredentialsError, NoRegionError

__all__ = [
    "ADVISORY_REFRESH",
    "MANDATORY_REFRESH",
    "CredentialChain",
    "Provider",
    "default_credentials",
    "resolve_region",
]

log = logging.getLogger(__name__)

ADVISORY_REFRESH = 15 * 60
MANDATORY_REFRESH = 10 * 60
# After an advisory attempt, the next one waits this long, so a failing or
# short-lived source is not asked again on every call.
ADVISORY_RETRY = 60


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def standard_providers(
    *, profile: str | None = None, environ: Mapping[str, str] = os.environ
) -> list[Provider]:
    """The providers of the standard chain, in order.

    Naming a profile skips the environment's keys, as the SDKs do when a
    profile is chosen in code.
    """
    providers: list[Provider] = []
    if profile is None:
        providers.append(EnvironmentProvider(environ))
    providers += [
        WebIdentityProvider(environ),
        ProfileProvider(profile, environ),
        ContainerProvider(environ),
        InstanceMetadataProvider(environ),
    ]
    return providers


class CredentialChain:
    """Credentials resolved lazily from a list of sources, and kept fresh.

    With no arguments it is the standard chain. `credentials` puts explicit
    credentials first; `profile` picks a profile of the shared files;
    `providers` replaces the standard list.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        profile: str | None = None,
        providers: Sequence[Provider] | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        chosen = list(providers) if providers is not None else None
        if chosen is None:
            chosen = standard_providers(profile=profile, environ=environ)
        if credentials is not None:
            chosen.insert(0, StaticProvider(credentials))
        self._providers = chosen
        self._source: Provider | None = None
        self._current: Credentials | None = None
        self._advisory_after: _dt.datetime | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        source = self._source.name if self._source else "unresolved"
        return f"<CredentialChain {source}>"

    @property
    def source(self) -> str | None:
        """The name of the source the current credentials came from."""
        return self._source.name if self._source else None

    def resolve(self) -> Credentials:
        """Current credentials, loading or refreshing them when needed."""
        current = self._current
        now = _now()
        if current is not None and not current.expires_within(ADVISORY_REFRESH, now):
            return current

        # advisory window: one caller refreshes, the others go on
        if current is not None and not current.expires_within(MANDATORY_REFRESH, now):
            after = self._advisory_after
            if after is not None and now < after:
                return current
            if not self._lock.acquire(blocking=False):
                return current
            try:
                return self._refresh_advisory()
            finally:
                self._lock.release()

        # first load or mandatory window: everyone waits for one refresh
        with self._lock:
            current = self._current
            if current is not None and not current.expires_within(
                MANDATORY_REFRESH, _now()
            ):
                return current
            return self._load()

    async def aresolve(self) -> Credentials:
        """`resolve` for asyncio: loading and refreshing run in a thread."""
        import asyncio

        current = self._current
        if current is not None and not current.expires_within(ADVISORY_REFRESH, _now()):
            return current
        return await asyncio.to_thread(self.resolve)

    def invalidate(self) -> None:
        """Forget the current credentials; the next call resolves afresh."""
        with self._lock:
            self._current = None
            self._source = None
            self._advisory_after = None

    def _refresh_advisory(self) -> Credentials:
        current = self._current
        if current is None:
            return self._load()
        now = _now()
        if not current.expires_within(ADVISORY_REFRESH, now):
            return current
        self._advisory_after = now + _dt.timedelta(seconds=ADVISORY_RETRY)
        try:
            return self._load()
        except CredentialsError as exc:
            log.debug(
                "advisory credential refresh failed, keeping the current: %s", exc
            )
            return current

    def _load(self) -> Credentials:
        # refresh from the source that gave the current set, else walk the chain
        if self._source is not None:
            found = self._source.load()
            if found is None:
                raise CredentialsError(
                    f"the {self._source.name} credentials are no longer configured"
                )
            return self._keep(self._source, found)
        for provider in self._providers:
            found = provider.load()
            if found is not None:
                return self._keep(provider, found)
            log.debug("no credentials from %s", provider.name)
        names = ", ".join(p.name for p in self._providers)
        raise NoCredentialsError(f"no credentials found (tried {names})")

    def _keep(self, provider: Provider, found: Credentials) -> Credentials:
        now = _now()
        if found.expiration is not None and found.expiration <= now:
            raise CredentialsError(
                f"the {provider.name} credentials expired at "
                f"{found.expiration.isoformat()}"
            )
        if found.expires_within(MANDATORY_REFRESH, now):
            log.debug("the %s credentials expire within 10 minutes", provider.name)
        log.debug(
            "credentials from %s, expiring %s",
            provider.name,
            found.expiration.isoformat() if found.expiration else "never",
        )
        self._source = provider
        self._current = found
        return found


def default_credentials(*, profile: str | None = None) -> CredentialChain:
    """A new standard chain; keep it, and call `resolve()` before each request."""
    return CredentialChain(profile=profile)


def resolve_region(
    *, profile: str | None = None, environ: Mapping[str, str] = os.environ
) -> str:
    """The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's."""
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    name = _ini.profile_name(environ, profile)
    config = _ini.Profiles(_ini.read(_ini.config_path(environ)), {})
    region = config.in_config(name).get("region")
    if region:
        return region
    raise NoRegionError(
        "no region: set AWS_REGION or AWS_DEFAULT_REGION, "
        f"or region in profile {name!r}"
    )
