"""The base of every service client: settings, credentials, executor, exceptions.

A service's client subclasses `SyncClient` / `AsyncClient`, sets `model` (its
`ServiceModel`) and defines one method per operation that hands the keyword
arguments to `self._call(OPERATION, params)`. Everything else (endpoint,
credentials, retries, connection pool) is built here, once per client.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, ClassVar

import sigv4

from . import config as _config
from ._executor import (
    AsyncExecutor,
    Context,
    Credentialer,
    Operation,
    ServiceModel,
    SyncExecutor,
)
from .errors import ClientClosedError, ServiceExceptions


class ClientMeta:
    """`client.meta`: region, endpoint and resolved settings, as in boto3."""

    __slots__ = ("config", "endpoint_url", "region_name", "service_name")

    def __init__(self, service_name: str, settings: _config.Resolved) -> None:
        self.service_name = service_name
        self.region_name = settings.region
        self.endpoint_url = settings.endpoint_url
        self.config = settings

    def __repr__(self) -> str:
        return f"<ClientMeta {self.service_name} {self.region_name}>"


def credentialer(
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    env: Any,
) -> Credentialer:
    """Explicit keys, else the environment's, else the sigv4 credential chain."""
    if access_key or secret_key:
        return Credentialer(
            sigv4.Credentials(access_key or "", secret_key or "", session_token)
        )
    env_key = env.get("AWS_ACCESS_KEY_ID")
    env_secret = env.get("AWS_SECRET_ACCESS_KEY")
    if env_key and env_secret:
        token = env.get("AWS_SESSION_TOKEN") or None
        return Credentialer(sigv4.Credentials(env_key, env_secret, token))
    return Credentialer(provider=_chain_provider())


def _chain_provider() -> Any:
    """The `resolve` of a `sigv4.default_credentials()` chain, made on first use."""
    chain: list[Any] = []

    def provide() -> sigv4.Credentials:
        if not chain:
            try:
                chain.append(sigv4.default_credentials())
            except (AttributeError, ImportError) as exc:  # pragma: no cover
                raise sigv4.NoCredentialsError("no credentials were found") from exc
        creds: sigv4.Credentials = chain[0].resolve()
        return creds

    return provide


class _Base:
    model: ClassVar[ServiceModel]
    _closed = False

    def _closed_error(self) -> ClientClosedError:
        return ClientClosedError(
            f"this {self.model.name} client is closed; build a new one"
        )

    def __init__(
        self,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        config: _config.Config | None = None,
        _transport: Any = None,
    ) -> None:
        env = _config.environ()
        name = self.model.name
        region = _config.resolve_region(region_name, config, env)
        url, custom = _config.resolve_endpoint(name, region, endpoint_url, env)
        settings = _config.Resolved(
            name,
            region=region,
            endpoint_url=url,
            custom_endpoint=custom,
            config=config,
            env=env,
            retry_base=self.model.retry_base,
            throttle_base=self.model.throttle_base,
            default_attempts=self.model.max_attempts,
        )
        self.meta = ClientMeta(name, settings)
        self.exceptions = ServiceExceptions(name)
        creds = credentialer(
            aws_access_key_id, aws_secret_access_key, aws_session_token, env
        )
        self._connect(Context(self.model, settings), creds, _transport)

    def _connect(self, ctx: Context, creds: Credentialer, transport: Any) -> None:
        """Build the executor and its connection pool (sync or async)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.meta.region_name} {self.meta.endpoint_url}>"
        )


class SyncClient(_Base):
    """A sync client: one httpx.Client, closed by `close()` or `with`."""

    _executor: SyncExecutor

    def _connect(self, ctx: Context, creds: Credentialer, transport: Any) -> None:
        from . import _http  # httpx loads with the first client that needs it

        http, direct = _http.sync_client(ctx.settings, transport)
        self._executor = SyncExecutor(ctx, creds, http, direct=direct)

    def _call(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        if self._closed:
            raise self._closed_error()
        return self._executor.call(op, params)

    def close(self) -> None:
        """Close the client's connection pool; later calls raise ClientClosedError."""
        self._closed = True
        self._executor.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Base):
    """An async client: one httpx.AsyncClient, closed by `close()` or `async with`."""

    _executor: AsyncExecutor

    def _connect(self, ctx: Context, creds: Credentialer, transport: Any) -> None:
        from . import _http

        http, direct = _http.async_client(ctx.settings, transport)
        self._executor = AsyncExecutor(ctx, creds, http, direct=direct)

    async def _call(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        if self._closed:
            raise self._closed_error()
        return await self._executor.call(op, params)

    async def close(self) -> None:
        """Close the client's connection pool; later calls raise ClientClosedError."""
        self._closed = True
        await self._executor.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
