"""Room media: one backend interface (``base``), the embedded aiortc SFU (``embedded``) and the
Janus tier (``janus``). Driven by the rooms through :class:`base.MediaBackend`; imports no feature
folder."""
