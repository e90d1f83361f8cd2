"""An httpx transport that spreads requests over several small connection pools.

httpcore's pool walks every connection on each request and each response (with a ``poll`` syscall per
idle connection), so its cost per call grows with the pool. At 32 connections that walk took most of
forge's client time and cut throughput to 0.93 of ideal (encode/httpcore#1035 and pydantic/httpx2#974
describe the same scan). Pools of at most ``per_shard`` connections keep the walk short; each request
goes to the least busy pool, so no pool queues while another has a free connection. The caller still
sees one shared ``httpx.AsyncClient``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable

import httpx

PER_SHARD = 8


class _CountedStream(httpx.AsyncByteStream):
    """A response body that tells its pool's counter when it is done with."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class ShardedTransport(httpx.AsyncBaseTransport):
    """The pools are made at the first request: loading the CA certificates takes tens of
    milliseconds, which a run answered from the cache (or a chain that never gets this far)
    should not pay."""

    def __init__(self, connections: int, *, per_shard: int = PER_SHARD) -> None:
        self._count = max(1, math.ceil(connections / per_shard))
        size = math.ceil(connections / self._count)
        self._limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._shards: list[httpx.AsyncHTTPTransport] = []
        self._busy = [0] * self._count

    def _open(self) -> list[httpx.AsyncHTTPTransport]:
        ssl_context = httpx.create_ssl_context()  # the CA certificates loaded once, not per pool
        self._shards = [
            httpx.AsyncHTTPTransport(limits=self._limits, verify=ssl_context)
            for _ in range(self._count)
        ]
        return self._shards

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        shards = self._shards or self._open()
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1

        def release() -> None:
            self._busy[index] -= 1

        try:
            response = await shards[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CountedStream(response.stream, release),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
