"""The one JSON reader of the API: bounded in size and depth, and free of NUL characters.

Python's `json` recurses once per level (a body of 100,000 `[` is a RecursionError, a 500)
and accepts `"\\u0000"`, which PostgreSQL refuses in any text column (another 500, after
the request did its reads). Both the DRF views (`JSONParser`, the default parser) and the
decision endpoint's fast path (`json_body`) read JSON here, so each is a 400 saying why.
"""

import json
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers

from kernel.errors import ApplicationError
from kernel.validation import surrogate_refusal

MAX_DEPTH = 32
NUL_MESSAGE = "Text may not contain NUL (\\u0000) characters."


def max_body_bytes() -> int:
    """Django's own cap on a request body held in memory (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def body_too_large() -> ApplicationError:
    """The refusal of a body over the cap (Django raises RequestDataTooBig reading one)."""
    return _refuse(f"The request body is larger than {max_body_bytes()} bytes.", "too_large")


def _refuse(message: str, code: str = "parse_error") -> ApplicationError:
    return ApplicationError(message, code=code)


def _body_problem(value: Any) -> tuple[str, str] | None:
    """What is wrong with a parsed body and its code, walked without recursion: nesting past
    MAX_DEPTH, a NUL or a lone surrogate (no database stores one) in a key or string; None
    when none."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_MESSAGE, "nul_character"
            if refusal := surrogate_refusal(item):
                return refusal, "surrogate"
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"JSON nests deeper than {MAX_DEPTH} levels.", "too_deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose every name appears once: `{"agent": "a", "agent": "b"}` would otherwise
    be read as the last one, which is not what every reader of that body would decide on."""
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            # repr: a NUL or a lone surrogate in the name is shown escaped, never sent raw.
            raise _refuse(
                f"Duplicate key {name[:40]!r} in a JSON object: send each field once.",
                "duplicate_key",
            )
        seen.add(name)
    return data


# json.loads builds a new decoder whenever it is given an option: these are built once.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
# For the decision endpoints only (their bodies are small and flat, measured: bench/decisions.py).
_UNIQUE_KEYS_DECODER = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_unique_keys)


def _loads(body: bytes, decoder: json.JSONDecoder) -> Any:
    """`json.loads(body, parse_constant=_no_constant)`, step for step, with `decoder`."""
    return decoder.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def json_body(body: bytes, *, unique_keys: bool = False) -> Any:
    """The parsed body, or a 400 (ApplicationError) naming what is wrong with it; with
    `unique_keys`, a name twice in one object is one of those 400s."""
    if len(body) > max_body_bytes():
        raise body_too_large()
    try:
        data = _loads(body or b"null", _UNIQUE_KEYS_DECODER if unique_keys else _DECODER)
    except RecursionError:
        raise _refuse(f"JSON nests deeper than {MAX_DEPTH} levels.", "too_deep") from None
    except ValueError as exc:
        raise _refuse(f"JSON parse error - {exc}") from None
    # Only a body with that many brackets can nest that deep, and a NUL can only arrive
    # escaped (json refuses raw control characters in strings): most bodies skip the walk.
    # A lone surrogate arrives escaped (`\ud800`) or as raw bytes led by 0xED; the decision
    # endpoints (`unique_keys`) refuse it themselves, naming the field and the batch index.
    deep = body.count(b"[") + body.count(b"{") > MAX_DEPTH
    surrogate = not unique_keys and (b"\\ud" in body or b"\\uD" in body or b"\xed" in body)
    if (deep or surrogate or b"\\u0000" in body) and (problem := _body_problem(data)):
        raise _refuse(*problem)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with `json_body`'s limits; reads at most one byte past the cap."""

    unique_keys = False

    def parse(self, stream: IO[bytes] | None, media_type=None, parser_context=None) -> Any:
        if stream is None:
            return None
        return json_body(stream.read(max_body_bytes() + 1), unique_keys=self.unique_keys)


class UniqueKeysJSONParser(JSONParser):
    """`JSONParser`, refusing a name twice in one object (the decision endpoints)."""

    unique_keys = True


# The decision endpoints' parsers: the API's defaults (settings.REST_FRAMEWORK) with keys unique.
# JSON only, as on the fast path (a form body is a 415 there): a form's repeated key would be
# read as its last value.
DECISION_PARSERS = [UniqueKeysJSONParser]
