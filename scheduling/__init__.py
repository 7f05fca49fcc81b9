"""Pure calendar library: intervals, conflicts, free/busy, slots, recurrence, iTIP.

No I/O: no HTTP, no SQL, no clock reads.
"""
