"""Every table, imported in one place so migrations and tests see the whole schema."""

from server import mail as mail_models
from server.audit import models as audit_models
from server.db import Base
from server.directory import models as directory_models
from server.proposals import models as proposal_models
from server.rooms import media_models as room_media_models
from server.rooms import models as room_models
from server.sessions import models as session_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "directory_models",
    "mail_models",
    "metadata",
    "proposal_models",
    "room_media_models",
    "room_models",
    "session_models",
]
