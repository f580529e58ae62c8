"""The square-number API: POST {"number": 3} answers {"result": 9}.

Works behind an HTTP API (2.0), a REST API (1.0), a function URL or an ALB:
`runtime.events` reads the request whatever its shape, and
`runtime.responses` answers in the shape the event's source expects.

Numbers: an int squares to an exact int (3 -> 9, big ints stay exact); a
float squares to a float (1.5 -> 2.25, 3.0 -> 9.0). Booleans are refused even
though Python counts them as ints, and so are NaN and the infinities (JSON
has no way to write them), and a square too large to write (a float that
overflows, an int past Python's 4300-digit limit).

Serve it locally with `lambdalite serve examples/square.handler` and call it:

    curl -s -X POST localhost:3000/ -d '{"number": 3}'
"""

from __future__ import annotations

import math
from typing import Any

from runtime.events import BodyError, request
from runtime.responses import ResponseError, json_response


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Square the `number` of a JSON POST body."""
    req = request(event)
    if req.method != "POST":
        message = f"method {req.method} not allowed, use POST"
        return json_response(req, {"error": message}, 405, headers={"Allow": "POST"})

    try:
        payload = req.json()
    except BodyError as exc:
        return json_response(req, {"error": str(exc)}, 400)
    if not isinstance(payload, dict) or "number" not in payload:
        return json_response(
            req, {"error": 'expected a JSON object {"number": N}'}, 400
        )

    number = payload["number"]
    if isinstance(number, bool) or not isinstance(number, int | float):
        return json_response(req, {"error": "number must be a JSON number"}, 400)
    if isinstance(number, float) and not math.isfinite(number):
        return json_response(req, {"error": "number must be finite"}, 400)

    result = number * number
    if isinstance(result, float) and not math.isfinite(result):
        return json_response(req, {"error": "the square is too large"}, 400)
    try:
        return json_response(req, {"result": result})
    except ResponseError:
        # an int past Python's limit on digits in a decimal string
        return json_response(req, {"error": "the square is too large"}, 400)
