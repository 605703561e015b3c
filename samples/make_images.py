#!/usr/bin/env python3
"""Draws the sample catalog's product images (SVG by hand, rasterised by rsvg-convert).

Run from anywhere: python3 samples/make_images.py  (needs Debian's librsvg2-bin). The PNGs it
writes to samples/images/ are committed; the project draws them itself, no stock photos.
"""
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "images"
SIZE = 400


def frame(bg, body, label):
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 400 400">
  <defs><radialGradient id="bg" cx="50%" cy="40%" r="70%">
    <stop offset="0" stop-color="#ffffff"/><stop offset="1" stop-color="{bg}"/></radialGradient></defs>
  <rect width="400" height="400" rx="36" fill="url(#bg)"/>
  {body}
  <rect x="0" y="332" width="400" height="68" fill="#000" fill-opacity="0.45"/>
  <text x="200" y="378" font-family="Noto Sans CJK SC, sans-serif" font-size="34" font-weight="700"
        fill="#fff" text-anchor="middle">{label}</text>
</svg>"""


def pear():
    return frame("#e9f3c4", """
  <ellipse cx="200" cy="235" rx="105" ry="92" fill="#d8e26a"/>
  <ellipse cx="200" cy="150" rx="62" ry="70" fill="#dde676"/>
  <ellipse cx="170" cy="215" rx="30" ry="42" fill="#fff" fill-opacity="0.35"/>
  <path d="M200 84 C 198 60, 206 48, 214 40" stroke="#6b4a2b" stroke-width="9" fill="none" stroke-linecap="round"/>
  <path d="M212 62 C 240 40, 275 48, 286 64 C 258 78, 230 76, 212 62 Z" fill="#5aa444"/>
  <g fill="#b5a33a" fill-opacity="0.5"><circle cx="230" cy="250" r="4"/><circle cx="250" cy="210" r="3"/>
  <circle cx="175" cy="275" r="3"/><circle cx="215" cy="290" r="4"/><circle cx="160" cy="180" r="3"/></g>""",
                 "隰县玉露香梨")


def crab():
    legs = "".join(
        f'<path d="M{200 + s * 70} {200 + dy} q {s * 60} {-30 + dy / 2} {s * 95} {10 + dy}" '
        f'stroke="#b8451f" stroke-width="11" fill="none" stroke-linecap="round"/>'
        for s in (-1, 1) for dy in (0, 28, 56))
    return frame("#cfe6f2", legs + """
  <path d="M120 150 q -40 -60 10 -85 q 10 35 35 40 z" fill="#c9512a"/>
  <path d="M280 150 q 40 -60 -10 -85 q -10 35 -35 40 z" fill="#c9512a"/>
  <ellipse cx="200" cy="215" rx="100" ry="72" fill="#d4582c"/>
  <ellipse cx="200" cy="200" rx="70" ry="38" fill="#e27a45"/>
  <circle cx="172" cy="150" r="11" fill="#222"/><circle cx="228" cy="150" r="11" fill="#222"/>
  <circle cx="175" cy="147" r="3" fill="#fff"/><circle cx="231" cy="147" r="3" fill="#fff"/>""",
                 "宿迁大闸蟹")


def hotpot():
    peppers = "".join(
        f'<path d="M{x} {y} q 18 -8 30 10 q -14 22 -34 8 z" fill="#d21f1f"/>'
        for x, y in ((130, 170), (210, 150), (250, 200), (160, 220), (200, 190)))
    return frame("#f6d7c3", """
  <ellipse cx="200" cy="290" rx="150" ry="28" fill="#3d3d3d"/>
  <path d="M60 190 h 280 v 70 q 0 40 -50 40 h -180 q -50 0 -50 -40 z" fill="#5a5a5a"/>
  <ellipse cx="200" cy="190" rx="140" ry="40" fill="#b3200f"/>
  <path d="M200 150 v 80" stroke="#5a5a5a" stroke-width="8"/>
  <ellipse cx="200" cy="190" rx="140" ry="40" fill="none" stroke="#444" stroke-width="8"/>""" + peppers +
                 """<g stroke="#fff" stroke-opacity="0.6" stroke-width="5" fill="none" stroke-linecap="round">
  <path d="M150 120 q 10 -20 0 -40"/><path d="M200 110 q 10 -20 0 -40"/><path d="M250 120 q 10 -20 0 -40"/></g>""",
                 "重庆火锅底料")


def laorou():
    return frame("#efe2cf", """
  <path d="M190 60 v 40" stroke="#8a6a3a" stroke-width="6"/>
  <rect x="110" y="100" width="180" height="200" rx="24" fill="#7a2e14"/>
  <rect x="110" y="100" width="180" height="46" rx="20" fill="#f3e6c8"/>
  <rect x="110" y="146" width="180" height="22" fill="#a8401c"/>
  <rect x="110" y="168" width="180" height="30" fill="#eedbb6"/>
  <rect x="110" y="198" width="180" height="102" rx="20" fill="#8f3417"/>
  <rect x="110" y="100" width="180" height="200" rx="24" fill="none" stroke="#4a1c0c" stroke-width="6"/>""",
                 "城口老腊肉")


def xiaomian():
    noodles = "".join(
        f'<path d="M110 {175 + i * 9} q 45 -22 90 0 t 90 0" stroke="#f3d28b" stroke-width="6" fill="none"/>'
        for i in range(8))
    return frame("#f2e3c9", """
  <ellipse cx="200" cy="200" rx="150" ry="60" fill="#2f5f8a"/>
  <path d="M50 200 q 150 170 300 0 z" fill="#2f5f8a"/>
  <ellipse cx="200" cy="200" rx="132" ry="48" fill="#c8361c"/>""" + noodles + """
  <circle cx="160" cy="185" r="9" fill="#3f9a3a"/><circle cx="240" cy="195" r="8" fill="#3f9a3a"/>
  <circle cx="205" cy="175" r="7" fill="#3f9a3a"/>
  <path d="M280 110 l -120 110" stroke="#a0703a" stroke-width="7"/><path d="M300 120 l -120 110" stroke="#a0703a" stroke-width="7"/>""",
                 "重庆小面")


IMAGES = {"pear-yulu": pear, "crab-suqian": crab, "hotpot-base": hotpot, "laorou-chengkou": laorou,
          "xiaomian-chongqing": xiaomian}

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, draw in IMAGES.items():
        svg = OUT / f"{name}.svg"
        svg.write_text(draw(), encoding="utf-8")
        subprocess.run(["rsvg-convert", "-w", str(SIZE), "-h", str(SIZE), "-o", str(OUT / f"{name}.png"), str(svg)],
                       check=True)
        svg.unlink()
        print("wrote", OUT / f"{name}.png")
