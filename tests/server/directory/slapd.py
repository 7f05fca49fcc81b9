"""A private OpenLDAP server (Debian's slapd) on a free loopback port, with its own directory.

The configuration (slapd.conf) and the database live in a temporary folder; the entries are
loaded with slapadd before slapd starts, so nothing needs a running directory to set up. The
package's own system service is never used (.ci/run stops it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SUFFIX = "dc=xieshang,dc=example"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SEARCHER_DN, SEARCHER_PASSWORD = f"cn=searcher,{SUFFIX}", "searcher-secret"
STAFF_GROUP, MEMBERS_GROUP = f"cn=committee-staff,{GROUPS}", f"cn=members,{GROUPS}"

# (uid, cn, mail, password, groups)
PEOPLE_ENTRIES = [
    ("wangli", "王丽", "wangli@example.org", "ldap-pass-wangli", [STAFF_GROUP]),
    ("chenming", "陈明", "chenming@example.org", "ldap-pass-chenming", [MEMBERS_GROUP]),
    ("zhouxin", "周欣", "zhouxin@example.org", "ldap-pass-zhouxin", []),
    ("member", "张委员（目录）", "member@example.org", "ldap-pass-member", [STAFF_GROUP]),
]


def require_slapd() -> None:
    """Skip (locally) or fail (in CI) when slapd is not installed."""
    if Path(SLAPD).exists() and Path(SLAPADD).exists():
        return
    missing = "slapd is not installed (apt install slapd ldap-utils; .ci/run does)"
    if REQUIRE_SERVICES:
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path) -> str:
    schemas = "\n".join(
        f"include /etc/ldap/schema/{name}.schema"
        for name in ("core", "cosine", "inetorgperson", "nis")
    )
    return f"""{schemas}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw admin-secret
directory {folder}/data
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
"""


def _entries() -> str:
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: xieshang\no: xieshang",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: {SEARCHER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: searcher\nuserPassword: {SEARCHER_PASSWORD}",
    ]
    for uid, cn, mail, password, _groups in PEOPLE_ENTRIES:
        blocks.append(
            f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn:: "
            f"{_b64(cn)}\nsn: {uid}\nmail: {mail}\nuserPassword: {password}"
        )
    for group in (STAFF_GROUP, MEMBERS_GROUP):
        members = [f"uid={p[0]},{PEOPLE}" for p in PEOPLE_ENTRIES if group in p[4]]
        lines = "\n".join(f"member: {m}" for m in members)
        name = group.split(",")[0].removeprefix("cn=")
        blocks.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {name}\n{lines}")
    return "\n\n".join(blocks) + "\n"


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@dataclass
class Slapd:
    """A running slapd: its URL, and a way to stop it (LDAP down) and start it again."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.folder / "slapd.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [SLAPD, "-d", "0", "-f", str(self.folder / "slapd.conf"), "-h", self.url + "/"],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "slapd.log").read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start listening in 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def start_slapd(folder: Path) -> Slapd:
    """A slapd with the test directory, listening on a free loopback port."""
    require_slapd()
    (folder / "data").mkdir(parents=True)
    (folder / "slapd.conf").write_text(_config(folder), encoding="utf-8")
    (folder / "entries.ldif").write_text(_entries(), encoding="utf-8")
    subprocess.run(
        [SLAPADD, "-f", str(folder / "slapd.conf"), "-l", str(folder / "entries.ldif")],
        check=True,
        capture_output=True,
        env={**os.environ, "LANG": "C"},
    )
    server = Slapd(folder=folder, port=_free_port())
    server.start()
    return server
