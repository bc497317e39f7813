#!/usr/bin/env python3
"""Replication latency probe: while process <pid> (the load) runs, write a
unique value to the leader every 50 ms and time until every follower returns
it. Prints "p50 p99 max samples" in milliseconds. Plain sockets, no client
library, so it runs with any python3."""
import os
import socket
import sys
import time


def conn(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")


def call(c, *args):
    s, f = c
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    line = f.readline()
    if line[:1] == b"$":
        n = int(line[1:])
        return None if n < 0 else f.read(n + 2)[:-2]
    return line.strip()


def main():
    pid, leader, followers = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
    lc = conn(leader)
    fcs = [conn(p) for p in followers]
    lat = []
    i = 0
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        i += 1
        value = b"%d-%d" % (os.getpid(), i)
        t0 = time.monotonic()
        call(lc, "SET", "lag:probe", value)
        for fc in fcs:
            while call(fc, "GET", "lag:probe") != value:
                if time.monotonic() - t0 > 30:
                    break
        lat.append((time.monotonic() - t0) * 1000)
        time.sleep(0.05)
    if not lat:
        print("0 0 0 0")
        return
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("%.2f %.2f %.2f %d" % (pick(0.5), pick(0.99), lat[-1], len(lat)))


if __name__ == "__main__":
    main()
