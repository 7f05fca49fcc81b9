"""Per-person notices (通知): stored in the caller's transaction, pushed live once committed,
and mailed through the outbox unless the person turned that kind's email off."""
