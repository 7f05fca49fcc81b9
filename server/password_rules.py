"""What a password may not be: one of the most common passwords, or close to the username.

Length alone let "12345678" and "password" through, the first guesses of anyone trying
accounts; and since sign-in limits count per address (``server.audit.service``), guessing
spread over many addresses meets these rules rather than a lock. The list is Django's
(``server/data/README.md`` says where it comes from and under which licence).
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

from server.i18n import _


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case (read once)."""
    packed = (resources.files("server") / "data" / "common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(packed).decode("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be the password of ``username``, or ``None`` when it may.

    Case does not matter; length is checked by the request shapes.
    """
    folded = password.strip().lower()
    if folded in common_passwords():
        return _(
            "is one of the most common passwords, which are guessed first; "
            "choose a less common one (a few unrelated words make a good one)"
        )
    name = (username or "").strip().lower()
    if name and (name in folded or name[::-1] in folded):
        return _("contains the username (or the username reversed); choose one that does not")
    return None
