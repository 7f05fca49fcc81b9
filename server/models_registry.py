"""Every table, imported in one place so migrations and tests see the whole schema."""

from server import mail as mail_models
from server.audit import models as audit_models
from server.db import Base
from server.directory import models as directory_models
from server.media import models as media_models
from server.media.janus import models as placement_models
from server.notices import models as notice_models
from server.proposals import models as proposal_models
from server.record import models as record_models
from server.rooms import models as room_models
from server.selection import models as selection_models
from server.sessions import models as session_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "directory_models",
    "mail_models",
    "media_models",
    "metadata",
    "notice_models",
    "placement_models",
    "proposal_models",
    "record_models",
    "room_models",
    "selection_models",
    "session_models",
]
