"""The MSP security pipeline under test: legacy and new (BullMQ + unified analyzer) paths.

Public contract for the harness (rollout_bench may import these modules only):
schema, model, rules, events, subjects, settings, migration.
"""

__version__ = "0.1.0"
