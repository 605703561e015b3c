#!/usr/bin/env python3
"""Weak-uplink benchmark: for RTMP, SRT and WHIP, a publisher on an emulated rural 4G link
(5 % loss, 150 +- 50 ms, 2 Mbit/s) with a 20 s outage in the middle, through
tests/faults/weak_uplink.py (the same link, server, publisher and reconnecting wrapper as the
`faults` tests). Prints, per protocol and run:
  - frames lost: frames the live camera (ffmpeg testsrc / webrtcbin videotestsrc, 25 fps) made
    from the first segment to the last, minus the video frames in the HLS segments (ffprobe
    -count_frames). The outage itself accounts for 20 s x 25 = 500 of them; "outside" is the rest
    (the reconnect, plus frames lost to the loss on the link).
  - video gap: wall span minus the media time listed (EXTINF sum), in seconds.
  - recover: from the link coming back to the first segment of the new session listed.
  - publisher starts, SRT's own rtt/loss/retransmit counters.
Runs one protocol at a time (they would share the 2 cores otherwise). Never fails on figures.
Needs root (network namespaces). Usage:
  bench/ingest/weak_uplink.py [--server build/server/harvest-server]
      [--whip-publisher build/bench/webrtc/bench_whip_publisher] [--runs 1] [--protocols rtmp,srt,whip]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=os.path.join(ROOT, "build/server/harvest-server"))
    ap.add_argument("--whip-publisher", default=os.path.join(ROOT, "build/bench/webrtc/bench_whip_publisher"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--protocols", default="rtmp,srt,whip")
    ap.add_argument("--srt-latency-ms", type=int, default=0, help="0: the server's default")
    ap.add_argument("--outage", type=float, default=20.0)
    args = ap.parse_args()
    script = os.path.join(ROOT, "tests/faults/weak_uplink.py")
    rows = []
    for protocol in args.protocols.split(","):
        for run in range(args.runs):
            cmd = [sys.executable, script, "--server", args.server, "--whip-publisher", args.whip_publisher,
                   "--protocol", protocol, "--json", "--outage", str(args.outage), "--after", "5"]
            if args.srt_latency_ms:
                cmd += ["--srt-latency-ms", str(args.srt_latency_ms)]
            out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
            result = next((json.loads(l[7:]) for l in out.splitlines() if l.startswith("RESULT ")), None)
            if result is None:
                print(f"{protocol} run {run + 1}: no figures (the run failed):\n" + "\n".join(out.splitlines()[-15:]))
                continue
            rows.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(f"| protocol | frames expected | frames in HLS | lost | lost outside the {args.outage:.0f} s outage "
          "| video gap s | recover s | publisher starts | went live s | discontinuities |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['protocol']} | {r['frames_expected']} | {r['frames_in_hls']} | {r['frames_lost']} | "
              f"{r['frames_lost_outside_outage']:.0f} | {r['video_gap_s']} | {r['recover_s']} | "
              f"{r['publisher_starts']} | {r['live_after_s']} | {r['discontinuities']} |")
    for r in rows:
        if r["protocol"] == "srt":
            print(f"srt counters before the outage: {r.get('srt_before')}, after: {r.get('srt_after')}")
        print(f"{r['protocol']} link (publisher -> server packets): {r.get('link_up')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
