"""A netem in user space: what this machine's kernel lacks (no ``sch_netem``, no iptables).

Run by ``run.py`` inside the middle network namespace, as root::

    python bench/weaklink/shaper.py --dev xsw-t --rate 300000 --delay 0.1 --loss 0.03

It attaches to the TUN device ``--dev`` (made beforehand with ``ip tuntap add``), into which the
namespace's policy routing sends every packet it forwards while the link is shaped. Each packet
read is, as netem ``rate R delay D loss L limit 1000`` would treat it on the way out of an
interface: dropped with probability L; otherwise queued behind the packets already waiting in
its direction (at most 1,000; beyond that dropped), sent out at R bit/s (its serialization time
after the previous one), and delayed by D more. Then it is written back into the TUN device,
from where the kernel forwards it by its destination as usual. Directions are told apart by
the destination address, so each has its own queue and its own R, as with one netem qdisc on
each end of a link. The counts go to stdout as one JSON line when the process is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import random
import signal
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
LIMIT = 1000  # netem's default queue length, in packets


class Direction:
    def __init__(self) -> None:
        self.free_at = 0.0  # when the last queued packet has been serialized
        self.queued = 0
        self.sent = self.lost = self.overflow = 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev", required=True)
    parser.add_argument("--rate", type=float, required=True, help="bit/s per direction")
    parser.add_argument("--delay", type=float, required=True, help="seconds")
    parser.add_argument("--loss", type=float, required=True, help="0..1")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", args.dev.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    chance = random.Random(args.seed)
    directions: dict[bytes, Direction] = {}
    loop = asyncio.new_event_loop()

    def deliver(direction: Direction, packet: bytes) -> None:
        direction.queued -= 1
        direction.sent += 1
        with contextlib.suppress(OSError):  # the device went away (the run is ending)
            os.write(fd, packet)

    def readable() -> None:
        while True:
            try:
                packet = os.read(fd, 65536)
            except BlockingIOError:
                return
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue  # IPv4 only (the run's addresses); anything else is not forwarded
            direction = directions.setdefault(packet[16:20], Direction())
            if chance.random() < args.loss:
                direction.lost += 1
                continue
            if direction.queued >= LIMIT:
                direction.overflow += 1
                continue
            now = loop.time()
            direction.free_at = max(now, direction.free_at) + len(packet) * 8 / args.rate
            direction.queued += 1
            loop.call_at(direction.free_at + args.delay, deliver, direction, packet)

    def report() -> None:
        counts = {
            ".".join(str(b) for b in dst): {"sent": d.sent, "lost": d.lost, "overflow": d.overflow}
            for dst, d in directions.items()
        }
        print(json.dumps(counts), flush=True)
        loop.stop()

    loop.add_reader(fd, readable)
    loop.add_signal_handler(signal.SIGTERM, report)
    loop.add_signal_handler(signal.SIGINT, report)
    print("ready", flush=True)
    loop.run_forever()
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
