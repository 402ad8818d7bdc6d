"""What went over NATS during a run, read from the JetStream stream's per-subject counts, and
the run's own stream removed at its end."""

from __future__ import annotations

import asyncio

import nats
from nats.js.errors import NotFoundError

from msp_pipeline.contract.subjects import LEGACY_ANALYSIS_WILDCARD, in_namespace, stream_name


async def _subject_counts(url: str, subjects_filter: str, namespace: str) -> dict[str, int]:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        info = await nc.jetstream().stream_info(stream_name(namespace),
                                                subjects_filter=in_namespace(subjects_filter, namespace))
        return {str(k): int(v) for k, v in (info.state.subjects or {}).items()}
    except NotFoundError:
        return {}
    finally:
        await nc.close()


def subject_counts(url: str, subjects_filter: str = ">", namespace: str = "") -> dict[str, int]:
    """Messages per subject in the pipeline stream (of `namespace`) matching the filter."""
    return asyncio.run(_subject_counts(url, subjects_filter, namespace))


def legacy_analysis_messages(url: str, namespace: str = "") -> int:
    """Messages on the legacy analyzers' subjects (analysis.{mfa,policy,license,stale}.*)."""
    return sum(subject_counts(url, LEGACY_ANALYSIS_WILDCARD, namespace).values())


async def _delete(url: str, namespace: str) -> None:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        await nc.jetstream().delete_stream(stream_name(namespace))
    except NotFoundError:
        pass
    finally:
        await nc.close()


def delete_pipeline_stream(url: str, namespace: str = "") -> None:
    """Deletes the pipeline's stream of `namespace` (its consumers go with it). A run on shared
    servers deletes only its own namespaced stream, at its end; tests reset the default one."""
    asyncio.run(_delete(url, namespace))


def reset_pipeline_stream(url: str) -> None:
    """Deletes the default (un-namespaced) stream so a test starts from an empty event log
    (the pipeline processes recreate it at start)."""
    delete_pipeline_stream(url)
