"""The ledger service: every event on every topic, appended to a per-tenant hash chain."""
