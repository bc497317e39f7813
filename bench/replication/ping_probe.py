#!/usr/bin/env python3
"""Event-loop stall probe: sends PING to a server every millisecond until the
file <stopfile> exists, timing each round trip. Prints "max p99 p50 samples"
(ms). A server whose event loop pauses answers one PING late by the length of
the pause, so `max` is the longest stall seen. Plain sockets, any python3."""
import os
import socket
import sys
import time


def main():
    port, stopfile = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    lat = []
    while not os.path.exists(stopfile):
        t0 = time.perf_counter()
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        f.readline()
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.001)
    lat.sort()
    n = len(lat)
    print("%.2f %.2f %.2f %d" % (lat[-1], lat[min(n - 1, n * 99 // 100)], lat[n // 2], n))


if __name__ == "__main__":
    main()
