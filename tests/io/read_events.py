#!/usr/bin/env python3
"""Reads a TensorBoard run directory with TensorBoard's own loader and prints JSON.

Usage: read_events.py RUN_DIR
Output: {"scalars": [{tag, step, value}], "images": [{tag, step, width, height,
colorspace, png_hex}], "records": N}. Before loading, every record of every
event file is checked against TensorBoard's masked CRC32C: EventAccumulator
stops silently at a bad record, which would hide a framing bug.
"""
import json
import os
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c


def check_framing(path):
    """Number of records in the file; exits non-zero at the first bad one."""
    with open(path, "rb") as f:
        data = f.read()
    offset, records = 0, 0
    while offset < len(data):
        header = data[offset:offset + 8]
        if len(header) < 8:
            sys.exit(f"{path}: truncated length at byte {offset}")
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        if masked_crc32c(header) != length_crc:
            sys.exit(f"{path}: bad length CRC at byte {offset}")
        body = data[offset + 12:offset + 12 + length]
        (body_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
        if len(body) != length or masked_crc32c(body) != body_crc:
            sys.exit(f"{path}: bad data CRC at byte {offset}")
        offset += 16 + length
        records += 1
    return records


def main():
    run_dir = sys.argv[1]
    records = 0
    for name in sorted(os.listdir(run_dir)):
        if "tfevents" in name:
            records += check_framing(os.path.join(run_dir, name))
    acc = event_accumulator.EventAccumulator(
        run_dir, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = [{"tag": tag, "step": e.step, "value": e.value}
               for tag in sorted(tags["scalars"]) for e in acc.Scalars(tag)]
    images = [{"tag": tag, "step": e.step, "width": e.width, "height": e.height,
               "png_hex": e.encoded_image_string.hex()}
              for tag in sorted(tags["images"]) for e in acc.Images(tag)]
    print(json.dumps({"scalars": scalars, "images": images, "records": records}))


if __name__ == "__main__":
    main()
