#!/usr/bin/env python3
"""Weak rural 4G uplink, made for real: the publisher runs in its own network namespace, joined
to the server's (the root namespace) by a veth pair that this script creates, shapes and removes.

Publisher -> server: 5 % loss, 150 +- 50 ms delay, 2 Mbit/s (see Uplink: tc tbf for the cap,
and, as this kernel has no sch_netem, loss and delay applied between two TUN devices; `--netem`
uses a veth pair and tc netem where the kernel has it). Then a 20 s outage (100 % loss both
ways, as a 4G dropout: no link-down error reaches either end), then the shaped link again. The server runs in the root namespace on ports 0; the publisher (ffmpeg for RTMP and
SRT, bench_whip_publisher, a webrtcbin sender, for WHIP) in the namespace.

Reconnects, as a farmer's app does them: ffmpeg exits when its connection dies (RTMP: a write
blocked for 5 s once the send buffer is full, `-rw_timeout`; SRT: libsrt's 5 s peer-idle
timeout), and the wrapper here starts
it again every second until it connects. webrtcbin 1.22 reports no vanished peer, so for WHIP the
wrapper does what a browser app does on "ICE disconnected": it checks the server
(GET /api/health through the shaped link, 2 s timeout); after 3 failed checks it drops the
session and POSTs a new offer as soon as a check answers again.

What is asserted (tests/faults/CMakeLists.txt runs it per protocol, `--check`): the stream goes
live over the shaped link; through and after the outage the same playlist URL keeps being served
without EXT-X-ENDLIST, its media sequence never goes back or skips, exactly ONE segment carries
EXT-X-DISCONTINUITY (the reconnect), segments of the new session follow it, and every segment
listed decodes (ffprobe). The figures (frames lost, time to recover) are printed, never asserted:
bench/ingest/weak_uplink.py runs this for all three and prints the table.

Needs root, iproute2 (ip, tc), ffmpeg/ffprobe, curl. Anything missing is a failure, not a skip.
"""
import argparse
import collections
import fcntl
import json
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

FPS = 25


def log(msg):
    print(f"[weak_uplink {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def wait_until(cond, timeout, what, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Direction:
    """One direction of the emulated link: packets read from `src` are dropped (loss, outage),
    held for their delay and written to `dst` in order. Runs on its own thread."""

    def __init__(self, name, src, dst, loss=0.0, delay_ms=0.0, jitter_ms=0.0, limit=1000):
        self.name, self.src, self.dst = name, src, dst
        self.loss, self.delay_ms, self.jitter_ms, self.limit = loss, delay_ms, jitter_ms, limit
        self.outage = False
        self.stop_flag = False
        self.queue = collections.deque()
        self.last_departure = 0.0
        self.counts = collections.Counter()
        self.rng = random.Random()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop_flag:
            now = time.monotonic()
            while self.queue and self.queue[0][0] <= now:
                try:
                    os.write(self.dst, self.queue.popleft()[1])
                    self.counts["sent"] += 1
                except OSError:
                    self.counts["write_errors"] += 1
            timeout = 0.1 if not self.queue else max(0.0, self.queue[0][0] - now)
            ready, _, _ = select.select([self.src], [], [], min(timeout, 0.1))
            if not ready:
                continue
            try:
                packet = os.read(self.src, 65536)
            except OSError:
                continue
            self.counts["in"] += 1
            if self.outage:
                self.counts["outage_dropped"] += 1
                continue
            if self.rng.random() < self.loss:
                self.counts["lost"] += 1
                continue
            if len(self.queue) >= self.limit:
                self.counts["queue_dropped"] += 1
                continue
            delay = max(0.0, self.rng.gauss(self.delay_ms, self.jitter_ms)) / 1000.0
            # In order, as a radio bearer delivers: a packet never overtakes the one before it.
            departure = max(time.monotonic() + delay, self.last_departure)
            self.last_departure = departure
            self.queue.append((departure, packet))


class Uplink:
    """The publisher's own network namespace, joined to the server's (root) namespace by a
    point-to-point link that this script makes and removes. Unique names per run.

    The link: publisher -> server 5 % loss and 150 +- 50 ms delay (normal, clipped at 0, order
    kept), 2 Mbit/s; server -> publisher clean (so the RTT is the 150 +- 50 ms); an outage drops
    everything both ways (a 4G dropout: no error reaches either end, packets just vanish).

    Why not a veth pair with `tc netem`: this machine's kernel has no sch_netem (no modules;
    `tc qdisc add ... netem` answers "Specified qdisc kind is unknown"), only tbf/htb/pfifo, and
    no nftables/iptables. So the 2 Mbit/s cap is the kernel's `tc tbf` on the publisher's
    interface, and loss, delay and the outage are applied by this process between two TUN
    devices (one per namespace), which is what netem does in the kernel. With sch_netem
    (`--netem`), the same figures are set with a veth pair and one netem qdisc instead."""

    def __init__(self, use_netem=False):
        tag = f"{os.getpid() % 100000:05d}{random.randrange(36 ** 2):03x}"[:8]
        self.use_netem = use_netem
        self.ns = f"hlwu-{tag}"
        self.server_if = f"hwa{tag}"   # root namespace end (<= 15 chars)
        self.pub_if = f"hwb{tag}"      # publisher namespace end
        a, b = random.randrange(16, 250), random.randrange(0, 64) * 4
        self.server_ip = f"10.{a}.{random.randrange(256)}.{b + 1}"
        self.pub_ip = self.server_ip.rsplit(".", 1)[0] + f".{b + 2}"
        self.created = False
        self.fds = []
        self.up_dir = self.down_dir = None

    def nse(self):
        return ["ip", "netns", "exec", self.ns]

    def up(self):
        run(["ip", "netns", "add", self.ns])
        self.created = True
        run(self.nse() + ["ip", "link", "set", "lo", "up"])
        if self.use_netem:
            run(["ip", "link", "add", self.server_if, "type", "veth", "peer", "name", self.pub_if, "netns", self.ns])
            run(["ip", "addr", "add", f"{self.server_ip}/30", "dev", self.server_if])
            run(self.nse() + ["ip", "addr", "add", f"{self.pub_ip}/30", "dev", self.pub_if])
        else:
            a, b = open_tun(self.server_if), open_tun(self.pub_if)
            self.fds = [a, b]
            run(["ip", "link", "set", self.pub_if, "netns", self.ns])  # its fd keeps working
            run(["ip", "addr", "add", self.server_ip, "peer", self.pub_ip, "dev", self.server_if])
            run(self.nse() + ["ip", "addr", "add", self.pub_ip, "peer", self.server_ip, "dev", self.pub_if])
            self.up_dir = Direction("up", b, a, loss=0.05, delay_ms=150, jitter_ms=50)
            self.down_dir = Direction("down", a, b)
            self.up_dir.thread.start()
            self.down_dir.thread.start()
        run(["ip", "link", "set", self.server_if, "up"])
        run(self.nse() + ["ip", "link", "set", self.pub_if, "up"])
        self.shape("add")

    def shape(self, verb="change"):
        if self.use_netem:
            run(self.nse() + ["tc", "qdisc", verb, "dev", self.pub_if, "root", "netem", "loss", "5%", "delay",
                              "150ms", "50ms", "distribution", "normal", "rate", "2mbit", "limit", "1000"])
        elif verb == "add":
            # 2 Mbit/s; the bucket holds ~1 s of data (a 4G modem's buffer), beyond which tbf drops.
            run(self.nse() + ["tc", "qdisc", "add", "dev", self.pub_if, "root", "tbf", "rate", "2mbit",
                              "burst", "16kb", "latency", "1s"])

    def outage(self, on):
        if not self.use_netem:
            self.up_dir.outage = self.down_dir.outage = on
        elif on:
            run(self.nse() + ["tc", "qdisc", "change", "dev", self.pub_if, "root", "netem", "loss", "100%"])
            run(["tc", "qdisc", "add", "dev", self.server_if, "root", "netem", "loss", "100%"])
        else:
            run(["tc", "qdisc", "del", "dev", self.server_if, "root"])
            self.shape("change")

    def stats(self):
        return dict(self.up_dir.counts) if self.up_dir else {}

    def exec_prefix(self):
        return self.nse()

    def down(self):
        for d in (self.up_dir, self.down_dir):
            if d:
                d.stop_flag = True
                d.thread.join(2)
        if self.created:
            run(["ip", "link", "del", self.server_if], check=False)
            run(["ip", "netns", "del", self.ns], check=False)  # takes the publisher's end with it
            self.created = False
        for fd in self.fds:
            os.close(fd)
        self.fds = []


class Server:
    def __init__(self, binary, data_dir, extra):
        self.token = "weak-uplink-admin-" + str(random.randrange(10 ** 9))
        env = dict(os.environ, HARVEST_ADMIN_TOKEN=self.token)
        self.log_path = os.path.join(data_dir, "server.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--http-port", "0", "--rtmp-port", "0", "--srt-port", "0",
                                      "--bind", "0.0.0.0", "--data-dir", os.path.join(data_dir, "data"),
                                      "--burned-in", "off"] + extra,
                                     stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        self.ports = wait_until(self._ports, 60, "the server's event=listening line")

    def _ports(self):
        if self.proc.poll() is not None:
            raise AssertionError("the server exited: " + self.log())
        for line in self.log().splitlines():
            if "event=listening" in line:
                return {k: int(v) for k, v in re.findall(r"(\w+_port)=(\d+)", line)}
        return None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def http(self, method, path, body=None, headers=None, timeout=10):
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports['http_port']}{path}", method=method,
                                     data=body.encode() if isinstance(body, str) else body, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def create_stream(self):
        status, body, _ = self.http("POST", "/api/streams", json.dumps({"title": "weak uplink"}),
                                    {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        assert status == 201, f"POST /api/streams: {status} {body!r}"
        j = json.loads(body)
        return j["id"], j["stream_key"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


class Publisher:
    """Keeps one publisher running in the namespace, restarting it when it ends (as an app would)."""

    def __init__(self, protocol, uplink, server, key, whip_bin, srt_latency_ms, workdir):
        self.protocol, self.uplink, self.server, self.key = protocol, uplink, server, key
        self.whip_bin, self.srt_latency_ms, self.workdir = whip_bin, srt_latency_ms, workdir
        self.proc = None
        self.starts = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self.thread.start()

    def _ffmpeg_cmd(self):
        src = ["-re", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
               "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
               "-b:v", "800k", "-maxrate", "800k", "-bufsize", "800k", "-g", str(FPS), "-keyint_min", str(FPS),
               "-c:a", "aac", "-b:a", "64k"]
        host = self.uplink.server_ip
        if self.protocol == "rtmp":
            return ["ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostats"] + src + [
                "-rw_timeout", "5000000", "-f", "flv", f"rtmp://{host}:{self.server.ports['rtmp_port']}/live/{self.key}"]
        # ffmpeg's srt latency is in microseconds; the connection uses the larger of both ends'.
        # (streamid last and unescaped, as ffmpeg's srt URL parser wants it.)
        url = (f"srt://{host}:{self.server.ports['srt_port']}?latency={self.srt_latency_ms * 1000}"
               f"&pkt_size=1316&connect_timeout=3000&streamid=#!::r=live/{self.key},m=publish")
        return ["ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostats"] + src + ["-f", "mpegts", url]

    def _health(self):
        url = f"http://{self.uplink.server_ip}:{self.server.ports['http_port']}/api/health"
        r = subprocess.run(self.uplink.exec_prefix() + ["curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", url],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return r.stdout.strip() == "200"

    def _whip_once(self):
        """One WHIP session: offer out, answer in; returns the process (publishing) or None."""
        p = subprocess.Popen(self.uplink.exec_prefix() + [self.whip_bin, "h264", "--width", "640", "--height", "360",
                                                            "--fps", str(FPS), "--kbps", "800"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        offer = []
        for line in p.stdout:
            if line.rstrip("\r\n") == ".":
                break
            offer.append(line)
        offer_path = os.path.join(self.workdir, "offer.sdp")
        with open(offer_path, "w") as f:
            f.write("".join(offer))
        # The offer goes over the shaped link too, from the publisher's namespace.
        url = f"http://{self.uplink.server_ip}:{self.server.ports['http_port']}/whip/{self.stream_id}"
        r = subprocess.run(self.uplink.exec_prefix() + ["curl", "-s", "-m", "40", "-w", "\n%{http_code}",
                                                          "-H", "Content-Type: application/sdp",
                                                          "-H", "Authorization: Bearer " + self.key,
                                                          "--data-binary", "@" + offer_path, url],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        body, _, code = r.stdout.rpartition("\n")
        if code != "201":
            log(f"whip POST answered {code}: {body[:200]}")
            self._end(p)
            return None
        p.stdin.write(body if body.endswith("\n") else body + "\n")
        p.stdin.write(".\n")
        p.stdin.flush()
        return p

    def _end(self, p):
        if p is None or p.poll() is not None:
            return
        try:
            p.stdin and p.stdin.close()
        except OSError:
            pass
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def _loop(self):
        while not self.stop_flag.is_set():
            self.starts += 1
            if self.protocol == "whip":
                if not self._health():
                    self.stop_flag.wait(1)
                    continue
                self.proc = self._whip_once()
                failures = 0
                while self.proc is not None and not self.stop_flag.is_set() and self.proc.poll() is None:
                    failures = 0 if self._health() else failures + 1
                    if failures >= 3:
                        log("whip: the server is unreachable, dropping the session (the app re-publishes)")
                        break
                    self.stop_flag.wait(1)
                self._end(self.proc)
            else:
                self.proc = subprocess.Popen(self.uplink.exec_prefix() + self._ffmpeg_cmd(),
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=open(os.path.join(self.workdir, f"ffmpeg-{self.starts}.log"), "w"))
                while self.proc.poll() is None and not self.stop_flag.is_set():
                    time.sleep(0.2)
                self._end(self.proc)
            if not self.stop_flag.is_set():
                log(f"{self.protocol} publisher ended (run {self.starts}); restarting in 1 s")
                self.stop_flag.wait(1)

    def stop(self):
        self.stop_flag.set()
        self.thread.join(30)
        self._end(self.proc)


def parse_playlist(text):
    seq, disc_seq, ended, segs, disc_next, dur = 0, 0, False, [], False, 0.0
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            dur = float(line[8:].split(",")[0])
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            seq = int(line.split(":")[1])
        elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
            disc_seq = int(line.split(":")[1])
        elif line == "#EXT-X-DISCONTINUITY":
            disc_next = True
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line and not line.startswith("#"):
            segs.append({"seq": seq + len(segs), "uri": line, "disc": disc_next, "duration": dur})
            disc_next = False
    return {"seq": seq, "disc_seq": disc_seq, "ended": ended, "segments": segs}


class ErrorList(list):
    """Each distinct problem once (the watcher sees the same one on every poll)."""

    def append(self, item):
        if item not in self:
            super().append(item)


class PlaylistWatcher:
    """Polls the playlist every 200 ms, keeps every segment ever listed (with the time it was
    first seen) and downloads it while it is still served."""

    def __init__(self, server, stream_id, workdir):
        self.server, self.stream_id, self.workdir = server, stream_id, workdir
        self.history = {}   # seq -> segment dict (+ seen, path)
        self.errors = ErrorList()
        self.ended = False
        self.last_seq_seen = -1
        self.max_media_seq = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.lock = threading.Lock()

    def start(self):
        self.thread.start()

    def _loop(self):
        while not self.stop_flag.is_set():
            try:
                status, body, _ = self.server.http("GET", f"/hls/{self.stream_id}/index.m3u8", timeout=5)
            except Exception as e:  # the server must keep answering; recorded, asserted later
                self.errors.append(f"playlist fetch failed: {e}")
                status, body = 0, b""
            if status == 200:
                pl = parse_playlist(body.decode())
                if pl["ended"]:
                    self.ended = True
                if pl["seq"] < self.max_media_seq:  # a reset: players would reload or stall
                    self.errors.append(f"EXT-X-MEDIA-SEQUENCE went back: {pl['seq']} after {self.max_media_seq}")
                self.max_media_seq = max(self.max_media_seq, pl["seq"])
                for s in pl["segments"]:
                    with self.lock:
                        old = self.history.get(s["seq"])
                    if old is not None:
                        if old["uri"] != s["uri"]:
                            self.errors.append(f"sequence {s['seq']} was {old['uri']}, now {s['uri']}")
                        continue
                    s["seen"] = time.monotonic()
                    path = os.path.join(self.workdir, f"seg-{s['seq']}.ts")
                    st, data, _ = self.server.http("GET", f"/hls/{self.stream_id}/{s['uri']}", timeout=10)
                    if st == 200:
                        with open(path, "wb") as f:
                            f.write(data)
                        s["path"] = path
                    else:
                        self.errors.append(f"segment {s['uri']} answered {st}")
                    with self.lock:
                        self.history[s["seq"]] = s
                    self.last_seq_seen = max(self.last_seq_seen, s["seq"])
            elif status not in (404,) or self.history:
                self.errors.append(f"playlist answered {status}")
            self.stop_flag.wait(0.2)

    def segments(self):
        with self.lock:
            return [self.history[k] for k in sorted(self.history)]

    def stop(self):
        self.stop_flag.set()
        self.thread.join(20)


def count_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=nb_read_frames", "-of", "json", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    streams = json.loads(r.stdout).get("streams", [])
    if not streams:
        return None, "no video stream"
    return int(streams[0].get("nb_read_frames", 0)), ""


def session_of(uri):
    # {run}-{session}-{index}.ts
    parts = os.path.basename(uri).split("-")
    return parts[1] if len(parts) >= 3 else uri


def run_one(args):
    for tool in ("ip", "tc", "ffmpeg", "ffprobe", "curl"):
        if shutil.which(tool) is None:
            raise AssertionError(f"{tool} is not installed (scripts/install-deps.sh)")
    if os.geteuid() != 0:
        raise AssertionError("network namespaces and tc need root")
    if args.protocol == "whip" and not (args.whip_publisher and os.access(args.whip_publisher, os.X_OK)):
        raise AssertionError(f"the WHIP publisher '{args.whip_publisher}' is not there")

    workdir = tempfile.mkdtemp(prefix=f"weak-uplink-{args.protocol}-")
    uplink, server, publisher, watcher = Uplink(args.netem), None, None, None
    result = {"protocol": args.protocol}
    ok = False
    try:
        uplink.up()
        log(f"{args.protocol}: namespace {uplink.ns}, server {uplink.server_ip}, publisher {uplink.pub_ip}")
        extra = ["--srt-latency-ms", str(args.srt_latency_ms)] if args.srt_latency_ms else []
        server = Server(args.server, workdir, extra)
        stream_id, key = server.create_stream()
        watcher = PlaylistWatcher(server, stream_id, workdir)
        publisher = Publisher(args.protocol, uplink, server, key, args.whip_publisher,
                              args.srt_latency_ms or 800, workdir)
        publisher.stream_id = stream_id
        publisher.start()
        watcher.start()
        t0 = time.monotonic()
        wait_until(lambda: len(watcher.segments()) >= args.before, 60, f"{args.before} segments over the shaped link")
        result["live_after_s"] = round(time.monotonic() - t0, 1)
        first_session = session_of(watcher.segments()[0]["uri"])
        if args.protocol == "srt":
            _, body, _ = server.http("GET", f"/api/streams/{stream_id}")
            result["srt_before"] = {k: json.loads(body).get("ingest", {}).get(k) for k in
                                    ("rtt_ms", "loss_pct", "retransmits", "packets_lost")}
        log(f"{args.protocol}: live, {len(watcher.segments())} segments; outage for {args.outage} s")
        t_out = time.monotonic()
        uplink.outage(True)
        time.sleep(args.outage)  # the outage itself is the fault being made, not a synchronisation
        uplink.outage(False)
        t_back = time.monotonic()
        log(f"{args.protocol}: link back; waiting for the publisher's new session")

        def new_session_segments():
            return [s for s in watcher.segments() if session_of(s["uri"]) != first_session]
        wait_until(lambda: len(new_session_segments()) >= args.after, 60,
                   f"{args.after} segments of a new session after the outage")
        t_end = time.monotonic()
        news = new_session_segments()
        result["recover_s"] = round(news[0]["seen"] - t_back, 1)
        _, body, _ = server.http("GET", f"/api/streams/{stream_id}")
        state = json.loads(body)
        result["state_after"] = state.get("state")
        watcher.stop()
        publisher.stop()

        segs = watcher.segments()
        seqs = [s["seq"] for s in segs]
        result["segments"] = len(segs)
        result["publisher_starts"] = publisher.starts
        result["discontinuities"] = sum(1 for s in segs[1:] if s["disc"])
        result["sequence_contiguous"] = seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        result["ended"] = watcher.ended
        frames, bad = 0, []
        for s in segs:
            n, err = count_frames(s["path"]) if "path" in s else (None, "not downloaded")
            if n is None:
                bad.append(f"{s['uri']}: {err}")
            else:
                frames += n
        result["undecodable_segments"] = bad
        # Frames the live camera (testsrc at FPS, -re) made from the start of the first segment
        # listed to the end of the last, against the frames viewers got. A segment is listed
        # when its ending keyframe arrives, so the wall span between two listings is the span
        # of media between them, had nothing been lost.
        span = segs[-1]["seen"] - segs[0]["seen"] + segs[0]["duration"]
        expected = round(span * FPS)
        result["video_gap_s"] = round(span - sum(s["duration"] for s in segs), 1)
        result["frames_in_hls"] = frames
        result["frames_expected"] = expected
        result["frames_lost"] = max(0, expected - frames)
        result["frames_lost_outside_outage"] = max(0, expected - frames - args.outage * FPS)
        result["outage_s"] = args.outage
        result["errors"] = watcher.errors
        result["link_up"] = uplink.stats()
        if args.protocol == "srt":
            result["srt_after"] = {k: state.get("ingest", {}).get(k) for k in
                                   ("rtt_ms", "loss_pct", "retransmits", "packets_lost")}
        log("figures: " + json.dumps(result))

        # The outcomes (never timings).
        problems = []
        if result["discontinuities"] != 1:
            problems.append(f"{result['discontinuities']} discontinuities (one expected)")
        if not segs[0]["seq"] <= seqs[-1] or not result["sequence_contiguous"]:
            problems.append(f"media sequence not continuous: {seqs}")
        disc = [s for s in segs[1:] if s["disc"]]
        if disc and session_of(disc[0]["uri"]) == first_session:
            problems.append("the discontinuity is not at the new session")
        if watcher.ended:
            problems.append("the playlist ended (EXT-X-ENDLIST): the reconnect did not keep it")
        if result["state_after"] != "live":
            problems.append(f"stream state {result['state_after']} after the reconnect")
        if bad:
            problems.append("undecodable segments: " + "; ".join(bad))
        if watcher.errors:
            problems.append("playlist errors: " + "; ".join(watcher.errors[:5]))
        if problems:
            raise AssertionError("; ".join(problems))
        ok = True
        return result
    finally:
        if publisher:
            publisher.stop()
        if watcher:
            watcher.stop()
        if server:
            server.stop()
            if not ok:
                print("---- server log (tail) ----\n" + "\n".join(server.log().splitlines()[-60:]), flush=True)
        uplink.down()
        if ok or not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--protocol", choices=["rtmp", "srt", "whip"], required=True)
    ap.add_argument("--whip-publisher", default="")
    ap.add_argument("--srt-latency-ms", type=int, default=0, help="passed to the server (0: its default)")
    ap.add_argument("--outage", type=float, default=20.0)
    ap.add_argument("--before", type=int, default=4, help="segments listed before the outage")
    ap.add_argument("--after", type=int, default=3, help="segments of the new session to wait for")
    ap.add_argument("--netem", action="store_true", help="a veth pair shaped by tc netem (needs sch_netem)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir of a failed run")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = ap.parse_args()

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)  # ctest's timeout: the finally blocks still clean up
    try:
        result = run_one(args)
    except (AssertionError, RuntimeError, KeyboardInterrupt) as e:
        print(f"FAIL ({args.protocol}): {e}", flush=True)
        return 1
    if args.json:
        print("RESULT " + json.dumps(result), flush=True)
    print(f"PASS ({args.protocol})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
