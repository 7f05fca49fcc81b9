"""Live rooms: a pure state reducer over a durable event log, Socket.IO events, lobby, and the
policy that steers the room's media (``media_policy``)."""
