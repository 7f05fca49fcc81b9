"""The Janus tier: rooms served by Meetecho Janus VideoRoom instances, driven by the server."""
