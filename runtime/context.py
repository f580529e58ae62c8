"""The context object handed to a handler, shaped like AWS's Python runtime's.

The *invocation* is what `GET /next` returned, the *event* its decoded body,
and the *context* the metadata below: the request id, the invoked ARN and the
deadline from the invocation's headers, the client context and the Cognito
identity decoded from theirs, and the function's name, version, memory and log
names from the environment Lambda sets.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a start-up millisecond; annotations are lazy
    from typing import Any


class Client:
    """The mobile client application behind a client context."""

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, fields: dict[str, Any]) -> None:
        self.installation_id: str | None = fields.get("installation_id")
        self.app_title: str | None = fields.get("app_title")
        self.app_version_name: str | None = fields.get("app_version_name")
        self.app_version_code: str | None = fields.get("app_version_code")
        self.app_package_name: str | None = fields.get("app_package_name")

    def __repr__(self) -> str:
        return (
            f"Client(installation_id={self.installation_id!r}, "
            f"app_title={self.app_title!r})"
        )


class ClientContext:
    """What a mobile SDK sent in `Lambda-Runtime-Client-Context`."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, fields: dict[str, Any]) -> None:
        client = fields.get("client")
        self.client: Client | None = (
            Client(client) if isinstance(client, dict) else None
        )
        self.custom: dict[str, Any] | None = fields.get("custom")
        self.env: dict[str, Any] | None = fields.get("env")

    def __repr__(self) -> str:
        return f"ClientContext(client={self.client!r}, custom={self.custom!r})"


class CognitoIdentity:
    """The Amazon Cognito identity from `Lambda-Runtime-Cognito-Identity`."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.cognito_identity_id: str | None = fields.get("cognitoIdentityId")
        self.cognito_identity_pool_id: str | None = fields.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity(cognito_identity_id={self.cognito_identity_id!r}, "
            f"cognito_identity_pool_id={self.cognito_identity_pool_id!r})"
        )


class LambdaContext:
    """Metadata about one invocation and the function serving it."""

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        *,
        aws_request_id: str,
        invoked_function_arn: str | None,
        deadline_ms: int,
        client_context: ClientContext | None = None,
        identity: CognitoIdentity | None = None,
        tenant_id: str | None = None,
    ) -> None:
        environ = os.environ
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.client_context = client_context
        self.identity = identity if identity is not None else CognitoIdentity({})
        self.tenant_id = tenant_id
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops this invocation (never < 0)."""
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        """Write `message` to the function's log, as `print` would, unbuffered."""
        sys.stdout.write(message)
        sys.stdout.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id!r}, "
            f"function_name={self.function_name!r}, "
            f"invoked_function_arn={self.invoked_function_arn!r})"
        )
