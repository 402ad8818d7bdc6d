"""Names on the wire: NATS subjects and streams, the BullMQ queue, job names.

The load reaches the pipeline only through these, so keep them in one place.
"""

from __future__ import annotations

import re

INTEGRATION_ID = "microsoft-365"
QUEUE_NAME = "pipeline-jobs"
SYNC_JOB_NAME = "sync"

# JetStream: one stream holds the whole event flow; each consumer is durable.
STREAM_NAME = "PIPELINE"
STREAM_SUBJECTS = ["sync.>", "fetched.>", "processed.>", "linked.>", "analysis.>", "deadletter.>"]
DEAD_LETTER_PREFIX = "deadletter"
# NATS_NAMESPACE: a run on shared servers gets its own stream (PIPELINE_<ns>), subjects
# (<ns>.linked.identities ...) and durable consumers (<ns>-unified-analyzer ...); empty = the
# production names. Applied inside Bus and the producer, so callers name plain subjects.
NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def stream_name(namespace: str = "") -> str:
    return f"{STREAM_NAME}_{namespace}" if namespace else STREAM_NAME


def in_namespace(subject: str, namespace: str = "") -> str:
    """linked.identities -> <ns>.linked.identities (unchanged without a namespace)."""
    return f"{namespace}.{subject}" if namespace else subject


def durable_in_namespace(durable: str, namespace: str = "") -> str:
    return f"{namespace}-{durable}" if namespace else durable


def sync_action(entity_type: str) -> str:
    """Legacy `scheduled_jobs.action` and NATS trigger subject: microsoft-365.sync.identities."""
    return f"{INTEGRATION_ID}.sync.{entity_type}"


def linked_subject(entity_type: str) -> str:
    return f"linked.{entity_type}"


LINKED_WILDCARD = "linked.>"
UNIFIED_ANALYSIS_SUBJECT = "analysis.unified"


def legacy_analysis_subject(analyzer: str, entity_type: str) -> str:
    """analysis.{type}.{entity}, e.g. analysis.mfa.identities (legacy path)."""
    return f"analysis.{analyzer}.{entity_type}"


LEGACY_ANALYSIS_WILDCARD = "analysis.*.*"


def dead_letter_subject(source: str) -> str:
    """deadletter.linked, deadletter.jobs ..."""
    return f"{DEAD_LETTER_PREFIX}.{source}"


def durable_name(consumer: str) -> str:
    """Durable JetStream consumer name, e.g. legacy-mfa, unified-analyzer."""
    return consumer.replace(".", "-")
