"""Live rooms: a pure state reducer over a durable event log, Socket.IO events, lobby, media."""
