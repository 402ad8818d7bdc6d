"""What went over NATS during a run, read from the JetStream stream's per-subject counts."""

from __future__ import annotations

import asyncio

import nats
from nats.js.errors import NotFoundError

from msp_pipeline.contract.subjects import LEGACY_ANALYSIS_WILDCARD, STREAM_NAME


async def _subject_counts(url: str, subjects_filter: str) -> dict[str, int]:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        info = await nc.jetstream().stream_info(STREAM_NAME, subjects_filter=subjects_filter)
        return {str(k): int(v) for k, v in (info.state.subjects or {}).items()}
    except NotFoundError:
        return {}
    finally:
        await nc.close()


def subject_counts(url: str, subjects_filter: str = ">") -> dict[str, int]:
    """Messages per subject in the pipeline stream matching the filter."""
    return asyncio.run(_subject_counts(url, subjects_filter))


def legacy_analysis_messages(url: str) -> int:
    """Messages on the legacy analyzers' subjects (analysis.{mfa,policy,license,stale}.*)."""
    return sum(subject_counts(url, LEGACY_ANALYSIS_WILDCARD).values())


async def _reset(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        await nc.jetstream().delete_stream(STREAM_NAME)
    except NotFoundError:
        pass
    finally:
        await nc.close()


def reset_pipeline_stream(url: str) -> None:
    """Deletes the pipeline's stream so a run starts from an empty event log (the
    pipeline processes recreate it at start)."""
    asyncio.run(_reset(url))
