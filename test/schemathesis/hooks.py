"""Schemathesis hooks of ordertrail's fuzzing run (scripts/schemathesis.sh loads them with SCHEMATHESIS_HOOKS).

Each hook is a deliberate choice, with its reason (the others are in schemathesis.toml beside this file):

1. The payment provider's webhook is verified over the exact bytes it signed. A call that carries the
   `Payment-Signature` header gets a valid signature over the body it really sends, made with the run's
   PAYMENT_WEBHOOK_SECRET, so the fuzzing reaches the body's validation and the order commands behind it. A
   call without the header (schemathesis's ignored-auth check drops it) is sent as it is and must be a 401.

2. A `cursor` is opaque: only a `nextCursor` this service issued, for the same query, continues a list (any
   other is 400 INVALID_CURSOR, by design: a cursor is not a contract). The document cannot list the cursors
   that exist, so a request schemathesis means to be valid is sent without one; requests meant to be invalid
   keep theirs (and must be refused).

3. Ranges are given in order: `from` ≤ `to` and `minTotal` ≤ `maxTotal` (GET /orders), `from` ≤ `to` (GET
   /audit/events, and the revisions of a diff). OpenAPI cannot relate one parameter to another (the
   descriptions say it; the service answers a reversed range 400). A request meant to be valid is sent with
   such a pair in order; requests meant to be invalid are sent as generated.

4. The keys of a prices map (POST /catalog/products, PATCH /catalog/products/{sku}/price) are ISO 4217 codes.
   The document says so with JSON Schema's `propertyNames` and in words, but OpenAPI 3.0 has no such keyword
   and schemathesis does not read it there; a request meant to be valid gets its other keys renamed to codes.

5. A position (`afterPosition` of GET /audit/events) is opaque like a cursor: only a position this event store
   handed out (an event's `position`, a replay's `resumeAfterPosition`) is valid; any other
   is 400 INVALID_POSITION (an EventStoreDB `$all` position must be a record boundary, so no store may accept
   made-up ones). The document states its characters; a request meant to be valid is sent without one.

6. Not a choice of the service but a defect of the tool, worked around: schemathesis 4.32.5's coverage phase
   sends `If-Match: 0` in a case it calls positive ("All required and 2 optional properties"), against the
   header's own pattern; the server rightly answers 400 INVALID_IF_MATCH. A request meant to be valid whose
   If-Match breaks the documented pattern is sent with `If-Match: *` (any revision) instead.
"""

import datetime
import hashlib
import hmac
import json
import os
import re
import time

import schemathesis

WEBHOOK = ("POST", "/webhooks/payments")
IF_MATCH = re.compile(r'^(?:[*]|"[0-9]{1,18}")$')
SECRET = os.environ["PAYMENT_WEBHOOK_SECRET"].encode()


def _raw_body(case) -> bytes:
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str) and not (case.media_type or "").endswith("json"):
        return body.encode()
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _is_positive(case) -> bool:
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    mode = getattr(generation, "mode", None)
    return bool(getattr(mode, "is_positive", False)) and not bool(getattr(mode, "is_negative", False))


def _instant(value):
    text = str(value)
    if len(text) == 10:
        text += "T00:00:00+00:00"
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


# (path, low, high, key): the pairs a valid request gives in order.
RANGES = [
    ("/orders", "from", "to", _instant),
    ("/orders", "minTotal", "maxTotal", int),
    ("/audit/events", "from", "to", _instant),
    ("/carts/{id}/diff", "from", "to", int),
    ("/orders/{id}/diff", "from", "to", int),
    ("/catalog/products/{sku}/diff", "from", "to", int),
]


def _order_ranges(case) -> None:
    query = case.query
    if not isinstance(query, dict):
        return
    for path, low, high, key in RANGES:
        if case.operation.path != path or low not in query or high not in query:
            continue
        try:
            reversed_ = key(query[low]) > key(query[high])
        except (TypeError, ValueError):
            continue
        if reversed_:
            case.query = {**query, low: query[high], high: query[low]}
            query = case.query


CURRENCY = re.compile(r"^[A-Z]{3}$")
PRICED = {("POST", "/catalog/products"), ("PATCH", "/catalog/products/{sku}/price")}


def _currency_keys(case) -> None:
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("prices"), dict):
        return
    prices = body["prices"]
    if all(CURRENCY.match(key) for key in prices):
        return
    renamed = {}
    spare = (f"X{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(26 * 26))
    for key, value in prices.items():
        if not CURRENCY.match(key):
            key = next(code for code in spare if code not in prices and code not in renamed)
        renamed[key] = value
    case.body = {**body, "prices": renamed}


def _sign_webhook(case, kwargs) -> None:
    headers = case.headers or {}
    name = next((key for key in headers if key.lower() == "payment-signature"), None)
    if name is None:
        return
    raw = _raw_body(case)
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers[name] = f"t={timestamp},v1={digest}"
    case.headers = headers
    # Send exactly the bytes signed (the transport would otherwise serialise the body on its own).
    kwargs["data"] = raw


@schemathesis.hook
def before_call(context, case, kwargs):
    if (case.method.upper(), case.operation.path) == WEBHOOK:
        _sign_webhook(case, kwargs)
    if _is_positive(case) and case.headers:
        name = next((key for key in case.headers if key.lower() == "if-match"), None)
        if name is not None and not IF_MATCH.match(str(case.headers[name])):
            case.headers = {**case.headers, name: "*"}
    if _is_positive(case):
        _order_ranges(case)
        if (case.method.upper(), case.operation.path) in PRICED:
            _currency_keys(case)
    if _is_positive(case) and isinstance(case.query, dict):
        opaque = [name for name in ("cursor", "afterPosition") if name in case.query]
        if opaque:
            case.query = {key: value for key, value in case.query.items() if key not in opaque}
