#!/usr/bin/env python3
# tools/bench/connect-latency.py - the time a TCP connection takes to set up, as the client sees it:
# a blocking connect() returns when the SYN-ACK has arrived (and the ACK is sent), so the time
# around it is SYN sent -> SYN-ACK received plus one system call. Run inside the client's network
# namespace (tools/bench/rule-cost.sh does, in the kube-proxy lab's tkp-NAME-cl).
#
# Opens COUNT connections to each ADDRESS one after another, the addresses taken in turn (so that
# a drift of the machine touches each alike), after WARMUP untimed ones each (neighbour entries,
# caches). Each socket is made and set up before the clock starts and closed with RST after it
# stops (SO_LINGER 0): no TIME_WAIT fills the client's port space or the endpoint's table. The
# garbage collector is off while measuring. TCP_SYNCNT 1: a lost SYN is retried once (about 1 s
# later, which shows in the p90) and a connection that fails twice counts as a failure.
#
# usage: connect-latency.py [--count COUNT (default 1000)] [--warmup WARMUP (default 20)] ADDRESS...
#   ADDRESS: A.B.C.D:PORT, optionally followed by /tcp (the kube-proxy lab's facts as they are)
# Prints one line per address:
#   address=A.B.C.D:PORT connections=COUNT failures=F median_us=M p90_us=P
# (median and nearest-rank 90th percentile of the successful ones, in microseconds; "n/a" if none).
import argparse
import gc
import math
import socket
import struct
import sys
import time

LINGER_RST = struct.pack("ii", 1, 0)


def parse_address(text):
    host, _, port = text.removesuffix("/tcp").rpartition(":")
    socket.inet_aton(host)  # raises on anything but a dotted IPv4 address
    return host, int(port)


def connect_once(destination):
    """The nanoseconds connect() took, or None if it failed."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
        start = time.perf_counter_ns()
        s.connect(destination)
        return time.perf_counter_ns() - start
    except OSError:
        return None
    finally:
        s.close()


def percentile(sorted_values, fraction):
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def main():
    parser = argparse.ArgumentParser(description="TCP connection set-up time (connect()) to each address")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args()
    destinations = [parse_address(a) for a in args.addresses]
    for destination in destinations:
        for _ in range(args.warmup):
            connect_once(destination)
    times = [[] for _ in destinations]
    failures = [0] * len(destinations)
    gc.disable()
    for _ in range(args.count):
        for i, destination in enumerate(destinations):
            ns = connect_once(destination)
            if ns is None:
                failures[i] += 1
            else:
                times[i].append(ns)
    gc.enable()
    for (host, port), samples, failed in zip(destinations, times, failures):
        samples.sort()
        if samples:
            median = "%.1f" % (percentile(samples, 0.5) / 1000)
            p90 = "%.1f" % (percentile(samples, 0.9) / 1000)
        else:
            median = p90 = "n/a"
        print("address=%s:%d connections=%d failures=%d median_us=%s p90_us=%s" % (host, port, args.count, failed, median, p90))
    return 0


if __name__ == "__main__":
    sys.exit(main())
