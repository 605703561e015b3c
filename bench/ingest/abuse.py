#!/usr/bin/env python3
"""RTMP ingest under abuse: the figures in docs/reliability.md ("RTMP ingest, logs and catalog input").

  rss    40 connections that never present a stream key: handshake, Set Chunk Size 4 MiB, then four
         chunk streams each announcing an 8 MiB - 16 command message and sending ~4 MiB of it
         (15.9 MiB per connection, under the old per-connection limits). Prints the server's VmRSS
         before, its peak (VmHWM) and VmRSS after, from /proc/PID/status.
  flood  600 idle TCP connections from 127.0.0.2, each reopened 0.5 s after the server drops it,
         while 15 real publishers (`ffmpeg -re`, 3 s of video each) publish one after another
         from 127.0.0.1 over ~30 s. Prints how many were accepted (harvest_ingest_publishes_total).

Runs the server binary given (default: the release build), on free ports, in a temporary data
directory. Prints figures; never fails on them. Usage: bench/ingest/abuse.py rss|flood [--server BIN]
"""
import argparse
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN = "abuse-bench-admin"


def start_server(binary, data_dir, extra):
    env = dict(os.environ, HARVEST_ADMIN_TOKEN=ADMIN)
    proc = subprocess.Popen([binary, "--http-port", "0", "--rtmp-port", "0", "--srt-port", "0", "--bind", "0.0.0.0",
                             "--data-dir", data_dir, "--burned-in", "off"] + extra,
                            env=env, stderr=subprocess.PIPE, text=True)
    ports = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if "event=listening" in line:
            ports = {k: int(v) for k, v in re.findall(r"(\w+_port)=(\d+)", line)}
            break
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # keep draining
    if not ports:
        proc.kill()
        sys.exit("server did not start")
    return proc, ports


def http(port, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def metric(port, name):
    text = http(port, "GET", "/metrics")
    m = re.search(re.escape(name) + r" (\d+)", text)
    return int(m.group(1)) if m else 0


def fmt0_header(csid, length, msg_type):
    return bytes([csid]) + b"\0\0\0" + struct.pack(">I", length)[1:] + bytes([msg_type]) + b"\0\0\0\0"


def run_rss(proc, ports):
    pid = proc.pid
    time.sleep(1)  # settle after startup (a measurement, not a synchronisation)
    before = status_kib(pid, "VmRSS")
    chunk = 4 << 20
    flood = fmt0_header(2, 4, 1) + struct.pack(">I", chunk)
    for csid in range(3, 7):
        flood += fmt0_header(csid, (8 << 20) - 16, 20) + b"A" * (chunk - (100 << 10) if csid == 6 else chunk)
    conns = []

    def attack():
        s = socket.create_connection(("127.0.0.1", ports["rtmp_port"]))
        conns.append(s)
        s.sendall(b"\x03" + os.urandom(1536))
        got = b""
        while len(got) < 1 + 2 * 1536:
            part = s.recv(4096)
            if not part:
                break
            got += part
        try:
            s.sendall(got[1:1537] + flood)
        except OSError:
            pass  # closed by the server: refused

    # All at once, so that every connection is full well within the (old, 10 s) setup timeout.
    threads = [threading.Thread(target=attack) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t0 = time.time()
    health_ok = http(ports["http_port"], "GET", "/api/health")
    health_ms = (time.time() - t0) * 1000
    time.sleep(1)
    during = status_kib(pid, "VmRSS")
    for s in conns:
        s.close()
    time.sleep(2)
    print(json.dumps({"connections": 40, "bytes_sent_per_connection": len(flood), "vmrss_before_kib": before,
                      "vmrss_with_connections_kib": during, "vmhwm_peak_kib": status_kib(pid, "VmHWM"),
                      "vmrss_after_close_kib": status_kib(pid, "VmRSS"), "health_during": json.loads(health_ok),
                      "health_ms": round(health_ms, 1)}, indent=1))


def run_flood(proc, ports):
    created = json.loads(http(ports["http_port"], "POST", "/api/streams", {"title": "flooded"}))
    stop = threading.Event()
    connects = [0]

    def flood():
        socks = {}
        closed_at = {i: 0.0 for i in range(600)}
        while not stop.is_set():
            now = time.time()
            for i in range(600):
                if i not in socks and now - closed_at[i] >= 0.5:
                    s = socket.socket()
                    s.setblocking(False)
                    try:
                        s.bind(("127.0.0.2", 0))
                        s.connect_ex(("127.0.0.1", ports["rtmp_port"]))
                        socks[i] = s
                        connects[0] += 1
                    except OSError:
                        s.close()
                        closed_at[i] = now
            ready, _, _ = select.select(list(socks.values())[:1000], [], [], 0.02) if socks else ([], [], [])
            for s in ready:
                try:
                    data = s.recv(256)
                except OSError:
                    data = b""
                if not data:
                    i = next(k for k, v in socks.items() if v is s)
                    s.close()
                    del socks[i]
                    closed_at[i] = time.time()
        for s in socks.values():
            s.close()

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    time.sleep(3)  # let the flood take its slots (it reopens what is dropped)
    before = metric(ports["http_port"], 'harvest_ingest_publishes_total{protocol="rtmp"}')
    ok = 0
    url = f"rtmp://127.0.0.1:{ports['rtmp_port']}/live/{created['stream_key']}"
    start = time.time()
    for _ in range(15):
        r = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
                            "testsrc2=size=320x568:rate=30", "-t", "1.5", "-c:v", "libx264", "-preset", "ultrafast",
                            "-g", "15", "-f", "flv", url], capture_output=True, timeout=60)
        ok += r.returncode == 0
    after = metric(ports["http_port"], 'harvest_ingest_publishes_total{protocol="rtmp"}')
    stop.set()
    t.join()
    refused = re.findall(r'harvest_ingest_refused_total\{protocol="rtmp",reason="(\w+)"\} (\d+)',
                         http(ports["http_port"], "GET", "/metrics"))
    print(json.dumps({"publishes_tried": 15, "ffmpeg_exit_0": ok, "publishes_accepted": after - before,
                      "seconds": round(time.time() - start, 1), "flood_connects": connects[0],
                      "refused": dict((k, int(v)) for k, v in refused)}, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["rss", "flood"])
    ap.add_argument("--server", default=os.path.join(ROOT, "build/server/harvest-server"))
    ap.add_argument("args", nargs="*", help="extra server flags")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as data:
        proc, ports = start_server(a.server, data, a.args)
        try:
            (run_rss if a.mode == "rss" else run_flood)(proc, ports)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
