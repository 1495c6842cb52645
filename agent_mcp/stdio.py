"""`manage.py mcp` over stdio: the SDK's transport, with every line answered.

The SDK reads each line with pydantic's JSON parser, which refuses some JSON that is valid
(a lone surrogate, `"\\ud800"`, which `JSON.stringify` writes for a broken string), and then
drops the line with no answer: the client waits for ever on that call. Here such a line is
answered with a JSON-RPC error for its `id` (read again with Python's json, which accepts it)
saying what is wrong, and the session goes on."""

import json
from typing import Any

import anyio
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

from kernel.validation import surrogate_refusal


def _line_of(error: Exception) -> str | None:
    """The line the transport could not read, which pydantic keeps with its error."""
    if isinstance(error, ValidationError):
        for detail in error.errors():
            if isinstance(detail.get("input"), str):
                return detail["input"]
    return None


def _strings_in(value: Any) -> list[str]:
    """Every key and string in a parsed message, walked without recursion."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _request_id(message: Any) -> int | str | None:
    """The id to answer, if the message has one that can be written back as it came."""
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    return None if isinstance(request_id, str) and surrogate_refusal(request_id) else request_id


def unreadable_answer(error: Exception) -> JSONRPCError:
    """The error reply to a line the transport could not read."""
    line = _line_of(error)
    try:
        message = json.loads(line) if line is not None else None
    except ValueError as exc:
        return JSONRPCError(
            jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message=f"Parse error: {exc}")
        )
    refusals = (surrogate_refusal(text) for text in _strings_in(message))
    refusal = next((text for text in refusals if text), None)
    if refusal is not None:
        error_data = ErrorData(code=INVALID_PARAMS, message=refusal)
    else:
        error_data = ErrorData(code=INVALID_REQUEST, message="Invalid JSON-RPC message.")
    return JSONRPCError(jsonrpc="2.0", id=_request_id(message), error=error_data)


class AnsweringReadStream:
    """The transport's read stream without the lines it could not read: each is answered on
    the write stream instead. Duck-types the SDK's ReadStream (`last_context` included)."""

    def __init__(self, inner: Any, write: Any) -> None:
        self._inner = inner
        self._write = write

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item
            await self._write.send(SessionMessage(unreadable_answer(item)))

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> "AnsweringReadStream":
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> "AnsweringReadStream":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def serve(server: Server) -> None:
    """`MCPServer.run_stdio_async`, step for step, through `AnsweringReadStream`."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(
            AnsweringReadStream(read_stream, write_stream),
            write_stream,
            server.create_initialization_options(),
        )
