#!/usr/bin/env python3
"""Ingest benchmark: N concurrent ~2 Mbps RTMP publishers into harvest-server and into nginx with
Debian's libnginx-mod-rtmp, both doing RTMP -> HLS (1 s target segments, GOP 1 s).

Measures, per server (times on the wall clock; a playlist's appearance is its file's mtime):
  - CPU per stream: utime+stime of the server's processes from /proc/PID/stat over a fixed window,
    divided by the number of streams (100% = one core).
  - publish-to-playlist latency: from starting the publisher to its first playlist on disk.
  - segment availability lag: when a segment appears in the playlist, minus the wall time at which
    its last frame was published (publisher start + media time, ffmpeg -re paces in real time).
And side by side (RenameClock: inotify rename events, read at real-time priority):
  - vs_nginx: for each publisher and segment, when harvest's playlist listing it was renamed into
    place minus when nginx's was (negative: harvest first); harvest_first_pct: how often harvest
    was first; first_vs_nginx: the same for segment 0, the first playlist.
  - cut_early_pct: harvest's segments cut as their ending keyframe arrived (from /metrics).
Publishers are `ffmpeg -re -i FILE -c copy` from one pre-encoded file, so they cost little. Both
servers run side by side and each ffmpeg publishes the same stream to both at once (ffmpeg's tee
muxer), so both see the same publish moments and the same machine load; CPU is read for each
server's processes over the same window. Playlists are watched on disk, not over HTTP, so
watching adds no load to the servers.
Prints a table; never fails on time. Usage: bench/ingest/run.py [--server build/server/harvest-server]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def ensure_nginx():
    if shutil.which("nginx") and os.path.exists("/usr/lib/nginx/modules/ngx_rtmp_module.so"):
        return True
    log("installing nginx + libnginx-mod-rtmp (Debian) for the comparison")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx", "libnginx-mod-rtmp"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def encode_input(path, seconds, kbps):
    if os.path.exists(path) and os.path.getsize(path) > 1000:
        return
    log(f"encoding the {seconds}s {kbps} kbps 720x1280 input once: {path}")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "30", "-keyint_min", "30",
                    "-b:v", f"{kbps - 128}k", "-maxrate", f"{kbps - 128}k", "-bufsize", f"{kbps}k",
                    "-c:a", "aac", "-b:a", "128k", "-f", "flv", path + ".tmp"], check=True)
    os.rename(path + ".tmp", path)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def proc_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total


def children(pid):
    out = []
    try:
        for p in os.listdir("/proc"):
            if p.isdigit():
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p))
    except OSError:
        pass
    return out


def parse_playlist(text):
    seq, segs = 0, []
    dur = None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            seq = int(line.split(":")[1])
        elif line.startswith("#EXTINF:"):
            dur = float(line[8:].split(",")[0])
        elif line and not line.startswith("#") and dur is not None:
            segs.append((line, dur))
            dur = None
    return seq, segs


class Watcher(threading.Thread):
    """Watches one stream's playlist file; records first-playlist time and per-segment lag."""

    def __init__(self, path, start_wall):
        super().__init__(daemon=True)
        self.path, self.start_wall = path, start_wall
        self.first_playlist = None
        self.lags = []
        self.seen = {}  # sequence number -> (duration)
        self.appeared = {}  # sequence number -> wall time it appeared in the playlist
        self.stop = False

    def run(self):
        last = None
        while not self.stop:
            # A segment "appears" when the server wrote the playlist that first lists it: the
            # file's modification time (ns), not when this 50 ms poll happened to see it. The
            # stat before and after the read must agree, else the file changed under us: retry.
            try:
                before = os.stat(self.path).st_mtime_ns
                with open(self.path) as f:
                    text = f.read()
                after = os.stat(self.path).st_mtime_ns
            except OSError:
                text, before, after = None, 0, 1
            if before != after:
                time.sleep(0.005)
                continue
            now = after / 1e9
            if text and text != last:
                last = text
                seq, segs = parse_playlist(text)
                if segs and self.first_playlist is None:
                    self.first_playlist = now - self.start_wall
                for i, (_, d) in enumerate(segs):
                    n = seq + i
                    if n not in self.seen:
                        self.seen[n] = d
                        self.appeared[n] = now
                        # media end of this segment = sum of all durations up to it (from sequence 0)
                        if all(k in self.seen for k in range(0, n + 1)):
                            media_end = sum(self.seen[k] for k in range(0, n + 1))
                            self.lags.append(now - (self.start_wall + media_end))
            time.sleep(0.05)


class RenameClock(threading.Thread):
    """When each playlist is renamed into place (inotify IN_MOVED_TO; both servers write a
    temporary file and rename it), i.e. when an HTTP reader can first see what it lists.
    File mtimes are kept in coarse clock ticks here (4 ms), too coarse to tell the two servers
    apart; inotify events are read as they happen, in one thread for both servers, so its
    wake-up delay falls on both alike; it runs at real-time priority, so that delay is small. Records sequence number -> time for every playlist."""

    IN_MOVED_TO, IN_CLOSE_WRITE = 0x80, 0x08

    def __init__(self, paths):
        super().__init__(daemon=True)
        import ctypes
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        self.paths = list(paths)
        self.by_wd = {}
        self.appeared = {p: {} for p in self.paths}
        self.stop = False

    def run(self):
        import select
        import struct
        # Real-time priority: on busy cores a woken normal thread waits for the next scheduler
        # tick (4 ms here), which would read both servers' events in one batch, as ties.
        try:
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_FIFO, os.sched_param(10))
        except OSError:
            log("RenameClock: no real-time priority (not root?); its times are tick-coarse")
        waiting = list(self.paths)
        while not self.stop:
            for path in list(waiting):
                d = os.path.dirname(path)
                if os.path.isdir(d):
                    wd = self.libc.inotify_add_watch(self.fd, d.encode(), self.IN_MOVED_TO | self.IN_CLOSE_WRITE)
                    if wd >= 0:
                        self.by_wd[wd] = path
                        waiting.remove(path)
            if not select.select([self.fd], [], [], 0.02)[0]:
                continue
            try:
                buf = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            now = time.time()  # one time for the batch: events read together are not told apart
            off, changed = 0, set()
            while off + 16 <= len(buf):
                wd, mask, _cookie, length = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + length].split(b"\0", 1)[0]
                off += 16 + length
                path = self.by_wd.get(wd)
                if path and name == os.path.basename(path).encode():
                    changed.add(path)
            for path in changed:
                try:
                    with open(path) as f:
                        seq, segs = parse_playlist(f.read())
                except OSError:
                    continue
                for i in range(len(segs)):
                    self.appeared[path].setdefault(seq + i, now)


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def summarize(name, watchers, cpu_pct, n):
    firsts = [w.first_playlist * 1000 for w in watchers if w.first_playlist is not None]
    lags = [l * 1000 for w in watchers for l in w.lags[1:]]  # the first segment's lag is the startup
    return {
        "server": name,
        "streams": n,
        "streams_with_playlist": len(firsts),
        "cpu_total_pct": round(cpu_pct, 1),
        "cpu_per_stream_pct": round(cpu_pct / n, 2),
        "first_playlist_ms_median": round(statistics.median(firsts)) if firsts else None,
        "first_playlist_ms_p95": round(pct(firsts, 95)) if firsts else None,
        "segment_lag_ms_median": round(statistics.median(lags)) if lags else None,
        "segment_lag_ms_p95": round(pct(lags, 95)) if lags else None,
        "segments_observed": len(lags),
    }


def start_harvest(args, workdir):
    data = os.path.join(workdir, "harvest-data")
    http, rtmp = free_port(), free_port()
    env = dict(os.environ, HARVEST_ADMIN_TOKEN="bench-admin")
    proc = subprocess.Popen([args.server, "--http-port", str(http), "--rtmp-port", str(rtmp), "--srt-port", "0",
                             "--bind", "127.0.0.1", "--data-dir", data, "--log-level", "warn",
                             "--burned-in", args.burned_in],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "harvest.log"), "w"))
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{http}/api/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    urls, paths, ids = [], [], []
    for i in range(args.streams):
        req = urllib.request.Request(f"http://127.0.0.1:{http}/api/streams", method="POST",
                                     data=json.dumps({"title": f"bench {i}"}).encode(),
                                     headers={"Authorization": "Bearer bench-admin"})
        st = json.load(urllib.request.urlopen(req))
        urls.append(f"rtmp://127.0.0.1:{rtmp}/live/{st['stream_key']}")
        paths.append(os.path.join(data, "hls", st["id"], "index.m3u8"))
        ids.append(st["id"])
    check = f"http://127.0.0.1:{http}/hls/{ids[0]}/index.m3u8"
    return proc, (lambda: [proc.pid]), urls, paths, check


def start_nginx(args, workdir):
    d = os.path.join(workdir, "nginx")
    os.makedirs(os.path.join(d, "hls"), exist_ok=True)
    http, rtmp = free_port(), free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=d, rtmp=rtmp, http=http))
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(workdir, "nginx.log"), "w"))
    time.sleep(1.0)
    urls = [f"rtmp://127.0.0.1:{rtmp}/live/s{i}" for i in range(args.streams)]
    paths = [os.path.join(d, "hls", f"s{i}", "index.m3u8") for i in range(args.streams)]
    return proc, (lambda: [proc.pid] + children(proc.pid)), urls, paths, f"http://127.0.0.1:{http}/hls/s0/index.m3u8"


def stop(proc, sig):
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def early_cut_pct(playlist_url):
    """Share of harvest's RTMP segments cut as their ending keyframe began to arrive (/metrics)."""
    base = playlist_url.split("/hls/")[0]
    try:
        text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        for name in ("harvest_ingest_segments_total", "harvest_ingest_segments_cut_early_total"):
            if line.startswith(name + '{protocol="rtmp"}'):
                values[name] = float(line.split()[-1])
    total = values.get("harvest_ingest_segments_total")
    if not total:
        return None
    return round(100.0 * values.get("harvest_ingest_segments_cut_early_total", 0) / total, 1)


def run_once(args, input_file, with_nginx):
    workdir = tempfile.mkdtemp(prefix="harvest-bench-")
    targets = [("harvest-server",) + start_harvest(args, workdir) + (signal.SIGTERM,)]
    if with_nginx:
        targets.append(("nginx-rtmp",) + start_nginx(args, workdir) + (signal.SIGQUIT,))
    publishers, watchers = [], {t[0]: [] for t in targets}
    try:
        log(f"starting {args.streams} publishers into {', '.join(t[0] for t in targets)}")
        for i in range(args.streams):
            outs = "|".join(f"[f=flv:onfail=ignore]{t[3][i]}" for t in targets)
            start = time.time()
            publishers.append(subprocess.Popen(
                ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", input_file,
                 "-map", "0", "-c", "copy", "-f", "tee", outs],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, f"ffmpeg-{i}.log"), "w")))
            for t in targets:
                w = Watcher(t[4][i], start)
                w.start()
                watchers[t[0]].append(w)
        clock = RenameClock([p for t in targets for p in t[4]])
        clock.start()
        time.sleep(args.warmup)
        t0 = time.time()
        c0 = {t[0]: proc_ticks(t[2]()) for t in targets}
        time.sleep(args.window)
        t1 = time.time()
        c1 = {t[0]: proc_ticks(t[2]()) for t in targets}
        with open("/proc/loadavg") as f:
            load1 = float(f.read().split()[0])
        results = []
        # Paired: the same publisher's segment n (same keyframes, so the same media in both)
        # appeared in harvest's playlist this much later (+) or earlier (-) than in nginx's.
        # Unlike the lag above this does not depend on how each server rounds EXTINF.
        # Timed by RenameClock: the moment each server's playlist listing it was renamed into place.
        paired, first_paired = [], []
        if len(targets) == 2:
            for ph, pn in zip(targets[0][4], targets[1][4]):
                ah, an = clock.appeared[ph], clock.appeared[pn]
                paired += [(ah[n] - an[n]) * 1000 for n in ah if n in an]
                if 0 in ah and 0 in an:
                    first_paired.append((ah[0] - an[0]) * 1000)
        clock.stop = True
        for t in targets:
            cpu = (c1[t[0]] - c0[t[0]]) / CLK_TCK / (t1 - t0) * 100.0
            r = summarize(t[0], watchers[t[0]], cpu, args.streams)
            r["load1"] = load1
            if paired and t[0] == "harvest-server":
                r["vs_nginx_ms_median"] = round(statistics.median(paired), 2)
                r["vs_nginx_ms_p95"] = round(pct(paired, 95), 2)
                r["vs_nginx_pairs"] = len(paired)
                if first_paired:  # the first playlist: segment 0 listed, harvest minus nginx
                    r["first_vs_nginx_ms_median"] = round(statistics.median(first_paired), 2)
                r["harvest_first_pct"] = round(100.0 * sum(1 for d in paired if d < 0) / len(paired), 1)
            try:
                r["http_ok"] = urllib.request.urlopen(t[5]).status == 200
            except OSError:
                r["http_ok"] = False
            if t[0] == "harvest-server":
                r["cut_early_pct"] = early_cut_pct(t[5])
            results.append(r)
        return results
    finally:
        for p in publishers:
            p.send_signal(signal.SIGINT)
        for p in publishers:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ws in watchers.values():
            for w in ws:
                w.stop = True
        for t in targets:
            stop(t[1], t[6])
        shutil.rmtree(workdir, ignore_errors=True)


NGINX_CONF = """
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
user root;
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
rtmp {{
  server {{
    listen 127.0.0.1:{rtmp};
    chunk_size 4096;
    application live {{
      live on;
      record off;
      hls on;
      hls_path {dir}/hls;
      hls_nested on;
      hls_fragment 1s;
      hls_playlist_length 8s;
      hls_cleanup on;
    }}
  }}
}}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{http};
    location /hls/ {{
      root {dir};
      types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
      add_header Cache-Control no-cache;
    }}
  }}
}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "server", "harvest-server"))
    ap.add_argument("--streams", type=int, default=20)
    ap.add_argument("--kbps", type=int, default=2000)
    ap.add_argument("--warmup", type=float, default=8.0, help="seconds after publishers start before the CPU window")
    ap.add_argument("--window", type=float, default=20.0, help="CPU measurement window, seconds")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "harvest-bench"))
    ap.add_argument("--only", choices=["harvest"], help="skip the nginx comparison")
    ap.add_argument("--burned-in", default="off", choices=["on", "off"],
                    help="harvest's burned-in rendition (a transcode per stream; nginx-rtmp does none)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per server (alternating); the median is printed too")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    input_file = os.path.join(args.cache, f"input-720x1280-{args.kbps}k.flv")
    encode_input(input_file, int(args.warmup + args.window + 20), args.kbps)
    results = []
    if not os.access(args.server, os.X_OK):
        sys.exit(f"no server binary at {args.server}: run scripts/build.sh release")
    have_nginx = args.only != "harvest" and ensure_nginx()
    if args.only != "harvest" and not have_nginx:
        log("nginx with libnginx-mod-rtmp could not be installed; running harvest-server alone")
    for run in range(args.repeat):
        for r in run_once(args, input_file, have_nginx):
            results.append(dict(r, run=run + 1))
    if args.repeat > 1:
        for name in ["harvest-server", "nginx-rtmp"]:
            rows = [r for r in results if r["server"] == name]
            if not rows:
                continue
            med = {"server": name, "run": "median", "streams": rows[0]["streams"]}
            for k in ["streams_with_playlist", "cpu_total_pct", "cpu_per_stream_pct", "first_playlist_ms_median",
                      "first_playlist_ms_p95", "segment_lag_ms_median", "segment_lag_ms_p95", "segments_observed",
                      "vs_nginx_ms_median", "vs_nginx_ms_p95", "harvest_first_pct", "first_vs_nginx_ms_median",
                      "cut_early_pct"]:
                vals = [r[k] for r in rows if r.get(k) is not None]
                med[k] = round(statistics.median(vals), 2) if vals else None
            med["http_ok"] = all(r.get("http_ok") for r in rows)
            results.append(med)
    cols = ["server", "run", "streams", "streams_with_playlist", "cpu_total_pct", "cpu_per_stream_pct",
            "first_playlist_ms_median", "first_playlist_ms_p95", "segment_lag_ms_median", "segment_lag_ms_p95",
            "segments_observed", "vs_nginx_ms_median", "vs_nginx_ms_p95", "harvest_first_pct", "first_vs_nginx_ms_median", "cut_early_pct", "http_ok",
            "load1"]
    for r in results:
        r.setdefault("run", 1)
    widths = [max(len(c), *(len(str(r.get(c))) for r in results)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in results:
        print("  ".join(str(r.get(c)).ljust(w) for c, w in zip(cols, widths)))
    print(f"(CPU: 100% = one core, over a {args.window:.0f}s window after {args.warmup:.0f}s warm-up; "
          f"{os.cpu_count()} cores; both servers side by side, fed by the same publishers)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
