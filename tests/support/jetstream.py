"""Test helpers for JetStream."""

from __future__ import annotations

import asyncio

import nats
from nats.js.errors import NotFoundError

from msp_pipeline.subjects import STREAM_NAME


async def _delete(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        try:
            await nc.jetstream().delete_stream(STREAM_NAME)
        except NotFoundError:
            pass
    finally:
        await nc.close()


def delete_pipeline_stream(url: str) -> None:
    asyncio.run(_delete(url))
