#!/usr/bin/env python3
"""SRT floods for tests/faults/js/ingest_floods.mjs, through libsrt itself (ctypes), so the
callers are real SRT callers. Prints one JSON line with what happened.

  srt_flood.py connect PORT STREAM_ID COUNT HOLD_S
      COUNT callers at once with STREAM_ID (on 127.0.0.1:PORT). Each reports whether it was
      accepted or its reject reason (1403 forbidden, 1400 bad request, 1405 bad mode,
      1409 conflict). An accepted caller sends nothing (a half-open publisher) and reports
      after how long the server closed it (or null if it was still open after HOLD_S).
  srt_flood.py induction PORT COUNT
      COUNT handshake inductions (the first UDP packet of an SRT call) from COUNT ports, never
      followed up: half-open handshakes. Reports how many got the listener's induction answer.
"""
import ctypes
import json
import os
import random
import socket
import struct
import sys
import threading
import time

SRTO_RCVSYN = 2
SRTO_CONNTIMEO = 36
SRTO_STREAMID = 46
SRTS_CONNECTED = 5
SRT_ERROR = -1


class SockaddrIn(ctypes.Structure):
    _fields_ = [("sin_family", ctypes.c_ushort), ("sin_port", ctypes.c_ushort),
                ("sin_addr", ctypes.c_ubyte * 4), ("sin_zero", ctypes.c_ubyte * 8)]


def load_srt():
    for name in ("libsrt.so.1.5", "libsrt.so", "libsrt-gnutls.so.1.5"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    print(json.dumps({"error": "libsrt not found (apt-get install libsrt1.5-openssl)"}))
    sys.exit(2)


def connect_flood(port, stream_id, count, hold_s):
    srt = load_srt()
    srt.srt_startup()
    srt.srt_getsockstate.restype = ctypes.c_int
    results = [None] * count
    addr = SockaddrIn(socket.AF_INET, socket.htons(port), (ctypes.c_ubyte * 4)(127, 0, 0, 1), (ctypes.c_ubyte * 8)())
    start = threading.Barrier(count)

    def one(i):
        s = srt.srt_create_socket()
        sid = stream_id.encode()
        srt.srt_setsockflag(s, SRTO_STREAMID, sid, len(sid))
        timeout = ctypes.c_int(10000)
        srt.srt_setsockflag(s, SRTO_CONNTIMEO, ctypes.byref(timeout), 4)
        start.wait()
        t0 = time.monotonic()
        ok = srt.srt_connect(s, ctypes.byref(addr), ctypes.sizeof(addr)) != SRT_ERROR
        r = {"accepted": ok, "reject": None if ok else srt.srt_getrejectreason(s),
             "ms": round((time.monotonic() - t0) * 1000), "closed_after_ms": None}
        if ok:
            connected_at = time.monotonic()
            while time.monotonic() - connected_at < hold_s:
                if srt.srt_getsockstate(s) != SRTS_CONNECTED:
                    r["closed_after_ms"] = round((time.monotonic() - connected_at) * 1000)
                    break
                time.sleep(0.05)
        srt.srt_close(s)
        results[i] = r

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    srt.srt_cleanup()
    print(json.dumps({"callers": results}))


def induction_flood(port, count):
    # SRT handshake induction (HSv4 form, as a caller sends it first): a control packet of type
    # handshake, then version 4, extension field 2, a random initial sequence number, MTU 1500,
    # flow window 8192, handshake type 1 (induction), a socket id, cookie 0, peer address.
    answered = 0
    socks = []
    for _ in range(count):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.settimeout(0)
        header = struct.pack("!IIII", 0x80000000, 0, 0, 0)
        cif = struct.pack("!IHHIIIiII", 4, 0, 2, random.randrange(1 << 31), 1500, 8192, 1,
                          random.randrange(1, 1 << 30), 0) + bytes([127, 0, 0, 1]) + bytes(12)
        u.sendto(header + cif, ("127.0.0.1", port))
        socks.append(u)
    deadline = time.monotonic() + 5
    pending = set(range(count))
    while pending and time.monotonic() < deadline:
        for i in list(pending):
            try:
                data = socks[i].recv(2048)
                if len(data) >= 64 and data[0] & 0x80:
                    answered += 1
                pending.discard(i)
            except BlockingIOError:
                pass
        time.sleep(0.02)
    for u in socks:
        u.close()
    print(json.dumps({"sent": count, "answered": answered}))


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "connect":
        connect_flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "induction":
        induction_flood(int(sys.argv[2]), int(sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
