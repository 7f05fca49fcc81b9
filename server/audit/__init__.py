"""The audit log: who did what, when, from where, to which object (append-only)."""
