"""The ledger's own metrics (the pipeline's are in laboursight_runtime.metrics)."""

from prometheus_client import Counter

APPENDED = Counter("laboursight_ledger_entries_appended_total", "Entries appended to the ledger")
CONFLICTS = Counter(
    "laboursight_ledger_append_conflicts_total",
    "Appends run again because another append moved a chain's head first",
)
