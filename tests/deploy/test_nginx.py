"""deploy/nginx/xieshang.conf, as written, in front of two ``xieshang serve`` processes on Redis.

Debian's nginx runs on loopback with the deployment's own file (placeholders filled in, TLS with
a certificate made here); a room runs through it with its two clients on different processes,
and the audit log takes the client address from X-Forwarded-For only from the trusted proxy.

The client connects from 127.0.0.2 and nginx reaches the servers from 127.0.0.1 (both loopback
on Linux), so the client's address and the proxy's differ as they would in a deployment.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.config import Config
from server.db import Database
from tests.conftest import PASSWORD, REDIS_URL, REQUIRE_SERVICES, Cast
from tests.server.rooms.test_durability import ServerProcess, free_port
from tests.server.sessions.test_sessions_api import create

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
CONF = Path(__file__).parents[2] / "deploy" / "nginx" / "xieshang.conf"
CLIENT = "127.0.0.2"  # the browser's address, as nginx sees it
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        NGINX is None and not REQUIRE_SERVICES,
        reason="needs nginx (Debian package nginx; .ci/run installs it)",
    ),
]


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xieshang.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("xieshang.test")]), False)
        .sign(key, hashes.SHA256())
    )
    crt, pem = folder / "tls.crt", folder / "tls.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return crt, pem


class Nginx:
    """nginx in the foreground with a main file of the test's own that includes the deployment's
    server file; its access log names the upstream each request went to."""

    def __init__(self, folder: Path, upstreams: list[int]) -> None:
        self.folder, self.https, self.http = folder, free_port(), free_port()
        crt, key = _certificate(folder)
        site = CONF.read_text()
        for placeholder, value in {
            "upstream_1": f"127.0.0.1:{upstreams[0]}",
            "upstream_2": f"127.0.0.1:{upstreams[1]}",
            "http_listen": f"127.0.0.1:{self.http}",
            "https_listen": f"127.0.0.1:{self.https}",
            "server_name": "xieshang.test",
            "certificate": str(crt),
            "certificate_key": str(key),
        }.items():
            site = site.replace("{{" + placeholder + "}}", value)
        assert "{{" not in site, "a placeholder of deploy/nginx/xieshang.conf is not filled in"
        (folder / "xieshang.conf").write_text(site)
        temp = folder / "temp"
        temp.mkdir()
        user = "user root;" if os.geteuid() == 0 else ""  # workers write the temp folder here
        (folder / "nginx.conf").write_text(
            f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    log_format upstreams '$remote_addr "$request" $status $upstream_addr';
    access_log {folder}/access.log upstreams;
    include {folder}/xieshang.conf;
}}
"""
        )
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https}"

    async def start(self) -> None:
        assert NGINX is not None, "nginx is not installed"
        conf = str(self.folder / "nginx.conf")
        test = await asyncio.create_subprocess_exec(
            NGINX, "-t", "-p", str(self.folder), "-c", conf, stderr=asyncio.subprocess.PIPE
        )
        _, err = await test.communicate()
        assert test.returncode == 0, err.decode()
        self.proc = await asyncio.create_subprocess_exec(
            NGINX, "-p", str(self.folder), "-c", conf, "-g", "daemon off;",
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.https)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise AssertionError("nginx did not start: " + (self.folder / "error.log").read_text())

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()

    def upstreams_of(self, path: str) -> list[str]:
        """The upstream address of each logged request whose URI starts with ``path``."""
        log = (self.folder / "access.log").read_text()
        pattern = re.compile(r'"[A-Z]+ ' + re.escape(path) + r'\S* HTTP/[\d.]+" \d+ (\S+)')
        return pattern.findall(log)


def _http(local: str = CLIENT) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(ssl=False, local_addr=(local, 0), force_close=True)
    return aiohttp.ClientSession(connector=connector)


@pytest.fixture
async def deployment(config: Config, tmp_path: Path) -> AsyncIterator[tuple[Nginx, list[int]]]:
    channel = f"nginx-{uuid.uuid4().hex}"
    ports = [free_port(), free_port()]
    servers = [
        ServerProcess(config, port, REDIS_URL, channel=channel, log=tmp_path / f"serve-{i}.log")
        for i, port in enumerate(ports)
    ]
    nginx = Nginx(tmp_path, ports)
    for server in servers:
        # The proxy is trusted; the public URL is the proxy's (the links the server writes).
        server.env |= {"XIESHANG_TRUSTED_PROXIES": "127.0.0.1", "XIESHANG_PUBLIC_URL": nginx.url}
    try:
        await asyncio.gather(*(server.start() for server in servers))
        await nginx.start()
        yield nginx, ports
    finally:
        await nginx.stop()
        for server in servers:
            await server.stop()


async def _room_client(http: aiohttp.ClientSession, url: str, auth: dict[str, Any]) -> Any:
    client = socketio.AsyncClient(reconnection=False, http_session=http, ssl_verify=False)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.on("event", events.put_nowait, namespace="/room")
    await client.connect(
        url, auth=auth, namespaces=["/room"], transports=["websocket"], wait_timeout=10
    )
    return client, events


async def test_a_room_runs_through_nginx_on_two_processes_and_the_audit_trusts_only_the_proxy(
    cast: Cast, database: Database, deployment: tuple[Nginx, list[int]]
) -> None:
    nginx, ports = deployment
    session = await create(cast)
    async with _http() as http:
        plain = f"http://127.0.0.1:{nginx.http}/x?y=1"
        async with http.get(plain, allow_redirects=False) as reply:
            assert reply.status == 301
            assert reply.headers["Location"] == "https://127.0.0.1/x?y=1"

        async with http.get(f"{nginx.url}/api/health") as reply:
            assert reply.status == 200
            assert (await reply.json())["redis"] == "ok"

        # Sign in through the proxy, claiming another address: the proxy appends the real one.
        async with http.post(
            f"{nginx.url}/api/auth/login",
            json={"username": "member", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.9"},
        ) as reply:
            assert reply.status == 200, await reply.text()
            token = (await reply.json())["token"]

        # Two room clients: nginx's round robin puts consecutive connections on either process.
        auth = {"session_id": session["id"]}
        host, host_events = await _room_client(http, nginx.url, {**auth, "token": cast.staff.token})
        member, member_events = await _room_client(http, nginx.url, {**auth, "token": token})
        try:
            started = await host.call(
                "command", {"type": "session.start", "data": {}}, namespace="/room", timeout=10
            )
            assert started["ok"], started
            said = await host.call(
                "command",
                {"type": "chat.send", "data": {"text": "通过代理的发言"}},
                namespace="/room",
                timeout=10,
            )
            assert said["ok"], said

            async def chat_reaches(events: asyncio.Queue[dict[str, Any]]) -> None:
                while True:
                    event = await events.get()
                    if "通过代理的发言" in str(event):
                        return

            await asyncio.wait_for(chat_reaches(member_events), 10)
            await asyncio.wait_for(chat_reaches(host_events), 10)
        finally:
            await host.disconnect()
            await member.disconnect()

    await asyncio.sleep(0.5)  # nginx logs a WebSocket request when it closes
    rooms = nginx.upstreams_of("/socket.io/")
    assert sorted(rooms) == sorted(f"127.0.0.1:{port}" for port in ports), rooms

    async with database.read() as db:
        rows = (
            await db.execute(select(AuditEntry).where(AuditEntry.action == "auth.login"))
        ).scalars().all()  # fmt: skip
    addresses = {row.address for row in rows if row.actor_id == cast.ids["member"]}
    # The cast signed in directly (127.0.0.1); through the trusted proxy: the client's own
    # address, not the one it claimed in its header.
    assert CLIENT in addresses, addresses
    assert "198.51.100.9" not in addresses, addresses


async def test_an_untrusted_proxy_is_not_believed(
    cast: Cast, database: Database, config: Config, tmp_path: Path
) -> None:
    port = free_port()
    server = ServerProcess(config, port, REDIS_URL, channel=f"nginx-{uuid.uuid4().hex}")
    nginx = Nginx(tmp_path, [port, port])
    try:
        await server.start()  # no XIESHANG_TRUSTED_PROXIES
        await nginx.start()
        async with _http() as http, http.post(
            f"{nginx.url}/api/auth/login", json={"username": "member2", "password": PASSWORD}
        ) as reply:  # fmt: skip
            assert reply.status == 200
    finally:
        await nginx.stop()
        await server.stop()
    async with database.read() as db:
        rows = (
            await db.execute(select(AuditEntry).where(AuditEntry.action == "auth.login"))
        ).scalars().all()  # fmt: skip
    through_proxy = [row.address for row in rows if row.actor_id == cast.ids["member2"]]
    assert through_proxy[-1] == "127.0.0.1"  # the proxy's address: X-Forwarded-For ignored
