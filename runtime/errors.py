"""Errors raised by runtime.

::

    LambdaliteRuntimeError
    ├── Fault                   a failure the loop reports to Lambda with one
    │                           of Lambda's error types (Runtime.ImportModuleError,
    │                           Runtime.MarshalError, ...)
    ├── RuntimeAPIError         the Runtime API could not be reached, or broke
    │                           the protocol; fatal to the loop
    ├── EventError (ValueError) an HTTP event could not be read
    │   ├── UnknownEventError   the dict is not an API Gateway, ALB or URL event
    │   └── BodyError           the body is not valid base64, UTF-8 or JSON
    ├── ResponseError (ValueError)  a response builder was given bad pieces
    ├── MalformedResultError (ValueError)  a handler's result is not a response
    │                           API Gateway can send
    ├── BadRequest (ValueError) a client of a local server sent something that
    │                           is not an HTTP/1.1 request API Gateway would pass
    ├── LocalAPIStoppedError (RuntimeError)  an invocation queued on a stopped
    │                           local Runtime API
    └── PackageError            the deployment zip could not be built

The classes that also derive from a built-in exception did so before this
tree existed; `except ValueError` and `except RuntimeError` keep catching
them. Each is importable from the module that raises it, too.

This module imports nothing: the loop imports it at cold start.
"""

from __future__ import annotations


class LambdaliteRuntimeError(Exception):
    """Base class of every error raised by runtime."""


class Fault(LambdaliteRuntimeError):
    """A failure the runtime itself reports, with one of Lambda's error types.

    `trace` holds the stack trace lines posted with it (only a syntax error
    in the handler's module has one).
    """

    def __init__(
        self, error_type: str, message: str, trace: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class RuntimeAPIError(LambdaliteRuntimeError):
    """The Runtime API could not be reached, or broke the protocol."""


class EventError(LambdaliteRuntimeError, ValueError):
    """An HTTP event could not be read."""


class UnknownEventError(EventError):
    """The event is not an API Gateway, ALB or function URL event."""


class BodyError(EventError):
    """The event's body is not what was asked for (base64, UTF-8 or JSON)."""


class ResponseError(LambdaliteRuntimeError, ValueError):
    """A response could not be built from what was given."""


class MalformedResultError(LambdaliteRuntimeError, ValueError):
    """The handler's result is not a response API Gateway can send."""


class BadRequest(LambdaliteRuntimeError, ValueError):
    """A client sent something that is not an HTTP/1.1 request we can serve.

    `status` is the HTTP status to answer with: 400 unless said otherwise
    (413 for a body over the limit, 501 for an unknown transfer coding).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class LocalAPIStoppedError(LambdaliteRuntimeError, RuntimeError):
    """An invocation was queued on a local Runtime API that is stopped."""


class PackageError(LambdaliteRuntimeError):
    """The deployment zip could not be built; the message says why."""
