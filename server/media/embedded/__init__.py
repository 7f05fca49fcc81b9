"""The embedded SFU: aiortc peer connections inside the server that forward encoded frames."""
