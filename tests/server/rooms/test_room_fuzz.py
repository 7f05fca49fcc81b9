"""Socket.IO under fuzzing: random and mutated payloads for every room event, as every role.

Hypothesis draws steps (a role, an event, a payload) for ``command`` with every command type the
server registers (``server.rooms.commands.RULES``), ``sync``, ``join`` and every ``rtc.*`` event
``RoomNamespace`` handles, fields named after what the rules read; then mutates them (wrong types,
missing and extra fields, huge strings and lists, deep nesting, odd Unicode, huge and negative
numbers, non-objects, binary). Each step goes over a real connection to the test server, as the
staff host, a member, a unit, a leader or an admitted guest. Every call must be answered within
the timeout, ``ok`` or refused with a message; no record at ERROR is logged; and a bystander in
the room still receives a chat message sent after the fuzzing. A room the fuzzing spoiled (ended,
someone removed) is replaced by a new one.

In ``make test``: FUZZ_ROOM_EXAMPLES (default 150) examples, seed FUZZ_ROOM_SEED; ``make fuzz`` runs
3000. What it found is pinned in ``test_room_fuzz_regressions.py``.
Hypothesis runs in a worker thread; each step runs on the test's event loop, where the server is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from server.config import Config
from server.rooms import rules
from server.rooms.commands import RULES
from server.rooms.events import RoomNamespace
from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create

EXAMPLES = int(os.environ.get("FUZZ_ROOM_EXAMPLES", "150"))
SEED = int(os.environ.get("FUZZ_ROOM_SEED", "20261206"))
ANSWER_SECONDS = 10.0
MAX_MESSAGE = 60_000  # under XIESHANG_WS_MAX_MESSAGE_BYTES (64 KiB), which closes the socket

COMMANDS = sorted(RULES)
# Every event of the namespace but the connection's own: ``on_rtc_publish`` is ``rtc.publish``.
EVENTS = sorted(
    ("rtc." + name[len("on_rtc_") :].replace("_", ".")) if name.startswith("on_rtc_") else name[3:]
    for name, _ in inspect.getmembers(RoomNamespace, inspect.isfunction)
    if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
)
ROLES = ("host", "member", "unit", "leader", "guest")


FIELD_READ = re.compile(r"""\bdata(?:\.get\(|\[)"([a-z_]+)"[\],)]""")


def _fields_in(path: Path) -> set[str]:
    """The fields code reads (``data["x"]``, ``data.get("x")``)."""
    return set(FIELD_READ.findall(path.read_text()))


# Found in the rules' source, so a new command's fields are fuzzed without a change here: those
# its family module reads (most often), and every field any rule reads.
FAMILY_FIELDS = {
    kind: sorted(_fields_in(Path(inspect.getfile(rule)))) for kind, rule in RULES.items()
}
FIELDS = sorted(
    _fields_in(Path(rules.__file__)).union(*map(set, FAMILY_FIELDS.values()))
    | {"sdp", "source", "feed_id", "since"}
)
ACTOR_KEYS = tuple(f"@{role}" for role in (*ROLES, "bystander"))  # replaced by the room's keys

LONE_SURROGATE = "\ud83d"
ODD_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    LONE_SURROGATE,
    "\udc00x",
    "\u202eevil",
    "\ufeff",
    "e\u0301",
    "\uffff",
    "\U0010ffff",
    "𠀀𠀁",
    "😀" * 50,
    "\n\r\t",
    "p:1",
    "g:1",
    "h:1",
    "p:-1",
    "p:99999999999999999999",
    "camera",
    "screen",
    "question",
    "chat",
    "notes",
    "action.add",
    "action.update",
    "remove",
    "nofeed",
    "v=0\r\n",
    "null",
    "__proto__",
    "constructor",
)
ODD_NUMBERS = (0, -1, 1, 2, 3, 2**31 - 1, 2**31, 2**63, 2**64, -(2**63), 10**30, -(10**30))


def _nest(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"x": value}
    return value


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each as often as its weight (shrinking towards the first)."""

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        number = draw(st.integers(min_value=0, max_value=sum(w for w, _ in choices) - 1))
        for weight, strategy in choices:
            if number < weight:
                return draw(strategy)
            number -= weight
        raise AssertionError("unreachable")

    return pick()


PLAUSIBLE_TEXT = ("你好", "补贴何时到位？", "同意", "不同意", "制定方案", "临时动议")
texts = st.sampled_from(ODD_TEXT) | st.text(max_size=40)
numbers = (
    st.sampled_from(ODD_NUMBERS)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
)
scalars = st.none() | st.booleans() | numbers | texts | st.binary(max_size=64)
# What a client that means well sends: small ids and seconds, the room's people, short text.
plausible = (
    st.integers(min_value=0, max_value=12)
    | st.integers(min_value=0, max_value=80)
    | st.sampled_from((30, 60, 120, 300))
    | st.sampled_from(ACTOR_KEYS)
    | st.sampled_from(PLAUSIBLE_TEXT + ODD_TEXT[14:])
    | st.booleans()
    | st.lists(st.integers(min_value=0, max_value=6), max_size=4)
    | st.lists(st.sampled_from(PLAUSIBLE_TEXT), max_size=4)
)
huge = (
    st.integers(min_value=1_000, max_value=40_000).map(lambda n: "x" * n)
    | st.integers(min_value=100, max_value=6_000).map(lambda n: "字" * n)
    | st.integers(min_value=500, max_value=9_000).map(lambda n: [1] * n)
    | st.integers(min_value=100, max_value=3_000).map(lambda n: [{"a": "b"}] * n)
    | st.integers(min_value=10, max_value=5_000).map(lambda n: {f"k{i}": i for i in range(n)})
)
deep = st.builds(_nest, scalars, st.integers(min_value=5, max_value=600), st.booleans())
nested = st.recursive(
    scalars | plausible,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(texts | st.sampled_from(FIELDS), children, max_size=5)
    ),
    max_leaves=12,
)
values = weighted((12, plausible), (5, scalars), (3, nested), (1, huge), (1, deep))
# A rule refuses fields it does not know: a few known fields, or none, most of the time.
data_objects = weighted(
    (5, st.dictionaries(st.sampled_from(FIELDS), values, max_size=3)),
    (2, st.just({})),
    (2, st.fixed_dictionaries({}, optional={name: values for name in FIELDS})),
    (1, st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=8)),
)


@st.composite
def command_payloads(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(COMMANDS))
    family = FAMILY_FIELDS[kind] or FIELDS
    data = draw(
        weighted(
            (3, st.dictionaries(st.sampled_from(family), values, max_size=4)), (2, data_objects)
        )
    )
    shape = draw(
        weighted(
            (12, st.just("right")),
            (2, st.sampled_from(("extra", "no data", "no type", "odd type", "odd data"))),
        )
    )
    if shape == "right":
        return {"type": kind, "data": data}
    if shape == "extra":
        return {"type": kind, "data": data, draw(texts): draw(values)}
    if shape == "no data":
        return {"type": kind}
    if shape == "no type":
        return {"data": data}
    if shape == "odd type":
        return {"type": draw(values), "data": data}
    return {"type": kind, "data": draw(values)}


def payloads(event: str) -> st.SearchStrategy[Any]:
    """Mostly objects, sometimes anything at all (a list, a number, text, bytes, nothing)."""
    if event == "command":
        return weighted((8, command_payloads()), (1, values))
    return weighted((5, data_objects), (1, values))


@dataclass(frozen=True)
class Step:
    role: str
    event: str
    payload: Any


def _fits(step: Step) -> bool:
    try:
        size = len(json.dumps(step.payload, default=lambda b: "x" * len(b) * 2))
    except (ValueError, RecursionError):
        return True  # NaN, or nesting only the server's guard reads: still small
    return size < MAX_MESSAGE


steps = st.lists(
    st.sampled_from(ROLES)
    .flatmap(
        lambda role: weighted((4, st.just("command")), (1, st.sampled_from(EVENTS))).map(
            lambda event: (role, event)
        )
    )
    .flatmap(lambda pair: payloads(pair[1]).map(lambda p: Step(pair[0], pair[1], p)))
    .filter(_fits),
    min_size=1,
    max_size=4,
)


# ---------------------------------------------------------------- the room


@pytest.fixture
def config(config: Config) -> Config:
    """No rate limits in the way of the fuzzing (their refusals are tested elsewhere)."""
    return dataclasses.replace(
        config,
        room_command_rate=1_000_000,
        room_command_burst=1_000_000,
        guest_joins_per_window=1_000_000,
    )


@dataclass
class Room:
    session_id: int
    clients: dict[str, RoomClient]
    keys: dict[str, str]

    def substitute(self, value: Any, levels: int = 3) -> Any:
        """``@member`` and friends in the top levels of a payload become the room's keys."""
        if isinstance(value, str) and value in ACTOR_KEYS:
            return self.keys[value[1:]]
        if isinstance(value, dict) and levels:
            return {k: self.substitute(v, levels - 1) for k, v in value.items()}
        if isinstance(value, list) and levels:
            return [self.substitute(v, levels - 1) for v in value[:10]] + value[10:]
        return value

    async def spoiled(self) -> bool:
        """Whether the fuzzing ended the session or put someone out (a new room comes next)."""
        return not await self.intact()

    async def intact(self, who: tuple[str, ...] = (*ROLES, "bystander")) -> bool:
        """Whether the session is live and ``who`` are all connected and not removed."""
        if not all(self.clients[role].sio.connected for role in who):
            return False
        synced = await self.clients["bystander"].call("sync", {})
        if not synced.get("ok"):
            return False
        state = synced["snapshot"]["state"]
        removed = {self.keys[role] for role in who} & set(state["removed"])
        return state["status"] != "ended" and not removed

    async def bystander_hears(self, text: str) -> None:
        """A chat message sent now reaches the bystander, who took no part in the fuzzing."""
        sent = await self.clients["host"].command("chat.send", text=text)
        assert sent["ok"], sent
        bystander = self.clients["bystander"]
        await bystander.wait_for(
            lambda: any(
                e["type"] == "chat.send" and e["data"].get("text") == text for e in bystander.events
            )
        )

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()


async def open_room(cast: Cast, url: str) -> Room:
    session = await create(
        cast,
        visibility="public",
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer", "attendance": "remote"},
            {"person_id": cast.ids["unit"], "role": "unit"},
            {"person_id": cast.ids["leader"], "role": "leader"},
            {"person_id": cast.ids["member2"], "role": "member"},
        ],
    )
    sid = session["id"]
    tokens = {
        "host": cast.staff.token,
        "member": cast.member.token,
        "unit": cast.unit.token,
        "leader": cast.leader.token,
        "bystander": cast.member2.token,
    }
    clients = {}
    for role, token in tokens.items():
        clients[role] = await RoomClient(url, {"token": token, "session_id": sid}).connect()
    keys = {
        role: f"p:{cast.ids[name]}"
        for role, name in (
            ("host", "staff"),
            ("member", "member"),
            ("unit", "unit"),
            ("leader", "leader"),
            ("bystander", "member2"),
        )
    }
    started = await clients["host"].command("session.start")
    assert started["ok"], started
    joined = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "市民"})
    assert joined.status == 200, joined.text
    guest = RoomClient(url, {"guest_token": joined.body["guest_token"], "session_id": sid})
    clients["guest"] = await guest.connect()
    await guest.wait_for(lambda: guest.lobby or guest.snapshots)
    keys["guest"] = f"g:{joined.body['guest_id']}"
    if not guest.snapshots:
        admitted = await clients["host"].command("lobby.admit", who=keys["guest"])
        assert admitted["ok"], admitted
        entered = await guest.call("join")
        assert entered["ok"], entered
    return Room(sid, clients, keys)


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above, from any logger (the server runs in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def _answered(reply: Any) -> str | None:
    """What is wrong with an acknowledgement, or None: ok, or refused with a message."""
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return f"not an answer: {reply!r:.200}"
    if reply["ok"]:
        return None
    error = reply.get("error")
    if (
        not isinstance(error, dict)
        or not error.get("message")
        or not isinstance(error.get("code"), str)
    ):
        return f"a refusal without a message: {reply!r:.200}"
    if error["code"] == "internal":
        return f"a server error: {reply!r:.200}"
    return None


def _brief(value: Any) -> str:
    return repr(value)[:300]


async def test_every_room_event_as_every_role_answers_random_and_mutated_payloads(
    cast: Cast, server: TestServer, server_errors: ErrorRecords
) -> None:
    assert "chat.send" in COMMANDS and "command" in EVENTS and "rtc.publish" in EVENTS
    url = str(server.make_url(""))
    loop = asyncio.get_running_loop()
    rooms = [await open_room(cast, url)]
    outcomes: Counter[tuple[str, str]] = Counter()

    async def play(example: list[Step]) -> None:
        room = rooms[-1]
        for step in example:
            client = room.clients[step.role]
            payload = room.substitute(step.payload)
            try:
                reply = await client.sio.call(
                    step.event, payload, namespace="/room", timeout=ANSWER_SECONDS
                )
            except TimeoutError:
                raise AssertionError(
                    f"no answer to {step.event} {_brief(payload)} as {step.role}"
                ) from None
            problem = _answered(reply)
            if isinstance(reply, dict):
                kind = payload.get("type") if isinstance(payload, dict) else None
                known = step.event == "command" and isinstance(kind, str) and kind in RULES
                label = kind if known else step.event
                outcomes[label, "ok" if reply["ok"] else str(reply["error"]["code"])] += 1
            assert problem is None, f"{step.event} {_brief(payload)} as {step.role}: {problem}"
            assert not server_errors.records, [r.getMessage() for r in server_errors.records]
            if not client.sio.connected:
                break  # put out of the room by an earlier step: a new room comes next
        if await room.spoiled():
            # Before it goes: the bystander still hears the host, unless the fuzzing ended it.
            if await room.intact(("host", "bystander")):
                await room.bystander_hears(f"第{len(rooms)}个房间仍然畅通")
            await room.close()
            rooms.append(await open_room(cast, url))

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(steps)
    def fuzz(example: list[Step]) -> None:
        asyncio.run_coroutine_threadsafe(play(example), loop).result(timeout=120)

    try:
        await asyncio.to_thread(fuzz)
        assert not server_errors.records, [r.getMessage() for r in server_errors.records]
        room = rooms[-1]
        if await room.spoiled():  # ended by the last example: the bystander heard that
            room = await open_room(cast, url)
            rooms.append(room)
        await room.bystander_hears("模糊测试之后仍然畅通")
        # The fuzzing reached the rules: some steps were accepted, some refused as invalid.
        assert any(outcome == "ok" for _label, outcome in outcomes), outcomes
        assert any(outcome == "invalid" for _label, outcome in outcomes), outcomes
        logging.getLogger(__name__).info("room fuzzing: %d rooms, %s", len(rooms), outcomes)
    finally:
        for room in rooms:
            await room.close()
