"""``laboursight-replay``: replay a period for auditors and report what a rule set changes."""
