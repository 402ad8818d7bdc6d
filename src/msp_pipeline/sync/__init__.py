"""The sync stages both paths run for a job: adapter (pages through graph_source),
processor (upserts entities by external id and data hash), linker (relationships in bulk),
each announcing its stage on NATS, the last with `linked.{type}`."""

from .runner import SyncError, SyncRunner

__all__ = ["SyncError", "SyncRunner"]
