#!/usr/bin/env python3
"""Real traffic for driftwall's kernel differential test (tests/kernel_iptables.rs).

The test runs this inside network namespaces it created itself:

  driver.py sysctl KEY=VALUE...  write /proc/sys entries of this namespace
  driver.py serve                spec on stdin, one JSON line:
                                 {"family": "ipv4"|"ipv6", "tcp": [ports], "udp": [ports]}
                                 prints "ready", echoes TCP data, records the probe ids that
                                 arrive; when stdin closes prints {"tcp": [ids], "udp": [ids]}
  driver.py probe                spec on stdin: {"timeout": seconds, "probes": [probe, ...]}
                                 runs every probe at once and prints one result per probe:
                                 {"id", "observed": "allow"|"reject"|"drop"|"error", "detail"}

What the initiating socket observes decides (IP_RECVERR / IPV6_RECVERR are set on every
client socket, so every ICMP error that reaches it is reported):
  TCP: connect and echo work -> allow; RST or ICMP error (at connect or later) -> reject;
       a timeout anywhere -> drop.
  UDP: the client reports reject when an ICMP error came back, else drop; the test turns that
       into allow when the server recorded the datagram.
A local EPERM from sendto (this host's OUTPUT dropped the packet) is not an answer: the probe
keeps waiting, because a REJECT in OUTPUT sends its ICMP error to this host over loopback.

Standard library only, so it runs on a fresh machine.
"""

import errno
import json
import os
import select
import selectors
import socket
import struct
import sys
import threading
import time

IP_RECVERR = 11
IPV6_RECVERR = 25
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3
# A server that nobody stops (the test died) must not live forever.
SERVE_MAX_SECONDS = 300


def address_family(name):
    return socket.AF_INET6 if name == "ipv6" else socket.AF_INET


def write_sysctls(pairs):
    for pair in pairs:
        key, value = pair.split("=", 1)
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)


def serve(spec):
    family = address_family(spec["family"])
    wildcard = "::" if family == socket.AF_INET6 else "0.0.0.0"
    sel = selectors.DefaultSelector()
    for kind, socktype in (("tcp", socket.SOCK_STREAM), ("udp", socket.SOCK_DGRAM)):
        for port in spec[kind]:
            s = socket.socket(family, socktype)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((wildcard, port))
            if kind == "tcp":
                s.listen(128)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("listen" if kind == "tcp" else "udp", None))
    sel.register(0, selectors.EVENT_READ, ("stdin", None))
    print("ready", flush=True)

    seen = {"tcp": set(), "udp": set()}
    deadline = time.monotonic() + SERVE_MAX_SECONDS
    running = True
    while running and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            kind, buf = key.data
            if kind == "stdin":
                if not os.read(0, 4096):
                    running = False
            elif kind == "listen":
                try:
                    conn, _ = key.fileobj.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, ("conn", bytearray()))
            elif kind == "conn":
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                buf += data
                if b"\n" in buf:
                    seen["tcp"].add(buf.split(b"\n", 1)[0].decode(errors="replace"))
                try:
                    key.fileobj.sendall(data)
                except OSError:
                    pass
            elif kind == "udp":
                try:
                    data, _ = key.fileobj.recvfrom(4096)
                except OSError:
                    continue
                seen["udp"].add(data.decode(errors="replace").strip())
    print(json.dumps({k: sorted(v) for k, v in seen.items()}), flush=True)


def icmp_detail(s):
    """The ICMP error queued on the socket, if any, as text."""
    try:
        _, ancdata, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except OSError:
        return ""
    for _level, _type, data in ancdata:
        if len(data) >= 16:
            _errno, origin, icmp_type, code, _pad, _info, _data = struct.unpack("=IBBBBII", data[:16])
            if origin == SO_EE_ORIGIN_ICMP:
                return f" (icmp type {icmp_type} code {code})"
            if origin == SO_EE_ORIGIN_ICMP6:
                return f" (icmpv6 type {icmp_type} code {code})"
            return f" (error origin {origin})"
    return ""


def describe(s, e):
    name = errno_name(e.errno) if e.errno is not None else type(e).__name__
    return name + icmp_detail(s)


def errno_name(number):
    return errno.errorcode.get(number, str(number))


def probe_tcp(s, p, timeout):
    payload = (p["id"] + "\n").encode()
    # Non-blocking connect, then poll for POLLOUT or POLLERR: an ICMP error that
    # comes back while connect() still holds the socket lock (veth delivers
    # within the same softirq run) only becomes a soft error, but IP_RECVERR
    # has queued it on the error queue, which POLLERR reports.
    s.setblocking(False)
    err = s.connect_ex((p["dst"], p["dport"]))
    if err not in (0, errno.EINPROGRESS):
        return "reject", "connect: " + errno_name(err) + icmp_detail(s)
    if err == errno.EINPROGRESS:
        poller = select.poll()
        poller.register(s, select.POLLOUT | select.POLLERR)
        ready = poller.poll(timeout * 1000)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            return "reject", "connect: " + errno_name(err) + icmp_detail(s)
        queued = icmp_detail(s)
        if queued:
            return "reject", "connect: queued" + queued
        if not ready:
            return "drop", "connect timed out"
    s.settimeout(timeout)
    try:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(256)
            if not chunk:
                return "error", f"connected, then closed after {got!r}"
            got += chunk
    except socket.timeout:
        queued = icmp_detail(s)
        if queued:
            return "reject", "connected, then queued" + queued
        return "drop", "connected, no echo"
    except OSError as e:
        return "reject", "connected, then " + describe(s, e)
    if got != payload:
        return "error", f"echo {got!r}"
    return "allow", "echoed"


def probe_udp(s, p, timeout):
    payload = (p["id"] + "\n").encode()
    s.settimeout(timeout)
    s.connect((p["dst"], p["dport"]))
    note = ""
    try:
        s.send(payload)
    except OSError as e:
        if e.errno != errno.EPERM:
            return "reject", "send: " + describe(s, e)
        note = "send: EPERM; "
    try:
        s.recv(256)
    except socket.timeout:
        return "drop", note + "no icmp error"
    except OSError as e:
        return "reject", note + describe(s, e)
    return "error", note + "unexpected reply"


def probe_one(p, timeout, results):
    family = address_family(p.get("family", "ipv4"))
    tcp = p["proto"] == "tcp"
    try:
        s = socket.socket(family, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    except OSError as e:
        results[p["id"]] = ("error", f"socket: {e}")
        return
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        s.bind((p["src"], p["sport"]))
    except OSError as e:
        results[p["id"]] = ("error", f"setup: {e}")
        s.close()
        return
    try:
        results[p["id"]] = probe_tcp(s, p, timeout) if tcp else probe_udp(s, p, timeout)
    except OSError as e:
        results[p["id"]] = ("error", f"unexpected: {e}")
    finally:
        s.close()


def probe(spec):
    timeout = float(spec["timeout"])
    results = {}
    threads = [threading.Thread(target=probe_one, args=(p, timeout, results)) for p in spec["probes"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * timeout + 5)
    out = []
    for p in spec["probes"]:
        observed, detail = results.get(p["id"], ("error", "probe thread did not finish"))
        out.append({"id": p["id"], "observed": observed, "detail": detail})
    print(json.dumps(out), flush=True)


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "sysctl":
        write_sysctls(sys.argv[2:])
    elif command == "serve":
        serve(json.loads(sys.stdin.buffer.readline()))
    elif command == "probe":
        probe(json.loads(sys.stdin.read()))
    else:
        sys.exit("usage: driver.py sysctl KEY=VALUE... | serve | probe")


if __name__ == "__main__":
    main()
