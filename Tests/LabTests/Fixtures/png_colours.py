"""Counts the pixels of given colours in a PNG screenshot (8-bit RGB or RGBA, non-interlaced).

    python3 png_colours.py SHOT.png '#0072B2' '#D55E00' ...

prints JSON: {"width": W, "height": H, "non_white": share of pixels not white, "colours": {"#0072B2": count, ...}}.
Only the standard library (zlib) is used, so the test needs nothing installed beyond Python.
"""
import json
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG layout"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    position = 0
    for _ in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1:position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[i] = (line[i] + predictor) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def main():
    path, wanted = sys.argv[1], sys.argv[2:]
    width, height, channels, rows = pixels(path)
    targets = {name: tuple(int(name[i:i + 2], 16) for i in (1, 3, 5)) for name in wanted}
    counts = {name: 0 for name in wanted}
    non_white = 0
    for row in rows:
        for x in range(width):
            rgb = tuple(row[x * channels:x * channels + 3])
            if rgb != (255, 255, 255):
                non_white += 1
            for name, target in targets.items():
                if all(abs(a - b) <= 2 for a, b in zip(rgb, target)):
                    counts[name] += 1
    print(json.dumps({"width": width, "height": height, "non_white": non_white / (width * height), "colours": counts}))


main()
