"""The sync stages both paths run for a job: adapter (pages through graph_source),
processor (upserts entities by external id and data hash), linker (relationships in bulk),
each announcing its stage on NATS JetStream, the last with `linked.{type}`."""

from msp_pipeline.sync.adapter import SyncError
from msp_pipeline.sync.runner import BatchStats, SyncRunner

__all__ = ["BatchStats", "SyncError", "SyncRunner"]
