#!/usr/bin/env python3
"""WebRTC ingest benchmark: the same source, 1280x720 30 fps test pattern + 440 Hz tone at about
2 Mbps with a keyframe a second, published one stream at a time into a fresh harvest-server as

  - rtmp       ffmpeg (libx264 ultrafast/zerolatency + AAC) over RTMP: the reference
  - whip-h264  WHIP, H.264 + Opus (webrtcbin sender, x264enc ultrafast/zerolatency): H.264 passes
               through, Opus is transcoded to AAC
  - whip-vp8   WHIP, VP8 + Opus (vp8enc realtime): VP8 is decoded and encoded to H.264
  - whip-h264-video  WHIP, H.264 without the tone: the passthrough alone, without the Opus
               decode and AAC encode

each with the burned-in rendition off and on (--burned-in). Measures, per run:

  - publish -> first segment: from starting the publisher (ffmpeg, or bench_whip_publisher, whose
    offer is POSTed as soon as its candidates are gathered) to the first playlist on disk that
    lists a segment (the file's mtime), in ms. For WHIP also the POST -> 201 time.
  - server CPU per stream: utime+stime of the server process (/proc/PID/stat) over a fixed window
    (--window s, after --warmup s of publishing), divided by the window's wall time; 100% = one
    core. The publishers run on the same machine; their CPU is not counted but loads the machine.
  - the machine's load average when each window starts (other engineers share it).

Prints a table; never fails on time. Usage:
  bench/webrtc/run.py [--server build/server/harvest-server]
                      [--publisher build/bench/webrtc/bench_whip_publisher] [--runs N]
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
ADMIN = "bench-webrtc-admin"
WIDTH, HEIGHT, FPS, KBPS = 1280, 720, 30, 2000


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def http(port, method, path, body=None, headers=None, timeout=30):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Server:
    """A fresh harvest-server on free ports with its own data directory."""

    def __init__(self, binary, burned):
        self.dir = tempfile.mkdtemp(prefix="bench-webrtc-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.log_file = open(self.log_path, "w")
        env = dict(os.environ, HARVEST_ADMIN_TOKEN=ADMIN)
        self.proc = subprocess.Popen(
            [binary, "--http-port", "0", "--rtmp-port", "0", "--srt-port", "0", "--bind", "127.0.0.1",
             "--data-dir", os.path.join(self.dir, "data"), "--burned-in", burned],
            stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        self.ports = {}
        while time.monotonic() < deadline and not self.ports:
            with open(self.log_path) as f:
                for line in f:
                    if "event=listening" in line:
                        self.ports = {k: int(v) for k, v in re.findall(r"(\w+_port)=(\d+)", line)}
            time.sleep(0.05)
        if not self.ports:
            raise RuntimeError("harvest-server did not start: " + open(self.log_path).read()[-2000:])

    def create_stream(self):
        status, body = http(self.ports["http_port"], "POST", "/api/streams", json.dumps({"title": "bench"}).encode(),
                            {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
        assert status == 201, body
        j = json.loads(body)
        return j["id"], j["stream_key"]

    def playlist(self, stream_id):
        return os.path.join(self.dir, "data", "hls", stream_id, "index.m3u8")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()
        subprocess.run(["rm", "-rf", self.dir])


class RtmpPublisher:
    def __init__(self, server, key):
        self.proc = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
             "-g", str(FPS), "-b:v", f"{KBPS}k", "-maxrate", f"{KBPS}k", "-bufsize", f"{KBPS}k",
             "-c:a", "aac", "-b:a", "128k",
             "-f", "flv", f"rtmp://127.0.0.1:{server.ports['rtmp_port']}/live/{key}"])
        self.answer_ms = None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class WhipPublisher:
    def __init__(self, binary, codec, server, stream_id, key, audio=True):
        self.proc = subprocess.Popen([binary, codec, "--width", str(WIDTH), "--height", str(HEIGHT),
                                      "--fps", str(FPS), "--kbps", str(KBPS)] + ([] if audio else ["--no-audio"]),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        offer = ""
        for line in self.proc.stdout:
            if line.rstrip("\r\n") == ".":
                break
            offer += line
        posted = time.monotonic()
        status, body = http(server.ports["http_port"], "POST", f"/whip/{stream_id}", offer.encode(),
                            {"Authorization": "Bearer " + key, "Content-Type": "application/sdp"})
        self.answer_ms = (time.monotonic() - posted) * 1000
        if status != 201:
            self.stop()
            raise RuntimeError(f"WHIP POST answered {status}: {body[:300]!r}")
        self.proc.stdin.write(body.decode() + ("" if body.endswith(b"\n") else "\n") + ".\n")
        self.proc.stdin.flush()

    def stop(self):
        try:
            self.proc.stdin.close()  # the publisher stops when its stdin closes
            self.proc.wait(10)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.proc.kill()
            self.proc.wait()


def first_segment_wall(path, timeout):
    """Wall time (s) at which the playlist first listed a segment: its file's mtime then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            before = os.stat(path).st_mtime_ns
            with open(path) as f:
                text = f.read()
            if "#EXTINF:" in text and os.stat(path).st_mtime_ns == before:
                return before / 1e9
        except OSError:
            pass
        time.sleep(0.005)
    return None


def run_one(args, kind, burned):
    server = Server(args.server, burned)
    publisher = None
    try:
        stream_id, key = server.create_stream()
        started = time.time()
        if kind == "rtmp":
            publisher = RtmpPublisher(server, key)
        else:
            publisher = WhipPublisher(args.publisher, kind.split("-")[1], server, stream_id, key,
                                      audio=not kind.endswith("-video"))
        seen = first_segment_wall(server.playlist(stream_id), 30)
        first_ms = None if seen is None else (seen - started) * 1000
        time.sleep(args.warmup)  # a benchmark's fixed warm-up, not synchronisation
        load = os.getloadavg()[0]
        cpu0, wall0 = cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(args.window)
        cpu1, wall1 = cpu_seconds(server.proc.pid), time.monotonic()
        _, info = http(server.ports["http_port"], "GET", f"/api/streams/{stream_id}")
        ingest = json.loads(info).get("ingest") or {}
        return {"first_ms": first_ms, "answer_ms": publisher.answer_ms,
                "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0), "load": load,
                "ingest": f"{ingest.get('video_codec', '?')} {ingest.get('width', '?')}x{ingest.get('height', '?')}"
                          f" + {ingest.get('audio_codec', '-')}"}
    finally:
        if publisher is not None:
            publisher.stop()
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", default=os.path.join(ROOT, "build", "server", "harvest-server"))
    p.add_argument("--publisher", default=os.path.join(ROOT, "build", "bench", "webrtc", "bench_whip_publisher"))
    p.add_argument("--runs", type=int, default=1, help="runs of each case; medians are printed")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--window", type=float, default=10.0)
    args = p.parse_args()

    cases = [(kind, burned) for burned in ("off", "on") for kind in ("rtmp", "whip-h264", "whip-h264-video", "whip-vp8")]
    results = {c: [] for c in cases}
    for run in range(args.runs):
        for case in cases:
            log(f"run {run + 1}/{args.runs}: {case[0]}, burned-in {case[1]}")
            try:
                results[case].append(run_one(args, *case))
            except Exception as e:  # a failed case is reported, the others still run
                log(f"  failed: {e}")

    med = lambda xs: statistics.median(xs) if xs else None
    fmt = lambda x, spec: "-" if x is None else format(x, spec)
    print(f"WebRTC ingest, {WIDTH}x{HEIGHT} {FPS} fps ~{KBPS} kbps + tone, one stream, "
          f"CPU window {args.window:.0f} s after {args.warmup:.0f} s, {args.runs} run(s), medians")
    print(f"{'case':<16} {'burned-in':<9} {'first segment ms':>16} {'POST->201 ms':>12} {'server CPU %':>12} "
          f"{'load':>5}  ingest")
    for (kind, burned), rs in results.items():
        if not rs:
            print(f"{kind:<16} {burned:<9} {'failed':>16}")
            continue
        firsts = [r["first_ms"] for r in rs if r["first_ms"] is not None]
        answers = [r["answer_ms"] for r in rs if r["answer_ms"] is not None]
        print(f"{kind:<16} {burned:<9} {fmt(med(firsts), '16.0f')} {fmt(med(answers), '12.0f')} "
              f"{fmt(med([r['cpu_pct'] for r in rs]), '12.1f')} {fmt(med([r['load'] for r in rs]), '5.2f')}  "
              f"{rs[-1]['ingest']}")


if __name__ == "__main__":
    main()
