"""The new path: BullMQ queue and worker (`queue`, `worker`), context loader (`context`),
unified analysis and alert manager (`analysis`, `alerts`), and the `unified-analyzer`
process role (`service`)."""

from msp_pipeline.unified.analysis import (
           COMPARISON_ONLY_QUERIES,
           UNIFIED_QUERIES,
           ComparisonHook,
           run_unified_analysis,
)
from msp_pipeline.unified.context import (
           TenantContext,
           load_context,
           load_tenant_context,
)

__all__ = ["COMPARISON_ONLY_QUERIES", "UNIFIED_QUERIES", "ComparisonHook", "TenantContext",
           "load_context", "load_tenant_context", "run_unified_analysis"]
