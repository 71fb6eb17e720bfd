#!/usr/bin/env python3
"""Seeds for the Bolt fuzz targets, from the exchanges recorded with real servers
(crates/quiver-bolt/tests/recordings/*.txt: `S:` lines are the server's bytes, hex).

    python3 fuzz/make_seeds.py      # writes fuzz/seeds/{bolt_client,driver_responses,bolt_server}/rec-*

`run.sh --minimise` then folds them, with what the fuzzer found, into the committed corpus.
(packstream_decode's seeds come from tests/packstream-vectors, see README.md.)"""
import hashlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent
RECORDINGS = ROOT.parent / "crates/quiver-bolt/tests/recordings"
# driver_responses' byte 0: low 3 bits index these versions.
DRIVER_VERSIONS = [(4, 4), (5, 0), (5, 1), (5, 4), (5, 6), (5, 7), (5, 8), (6, 0)]
# bolt_client's byte 0 indexes these (mod 11).
CLIENT_VERSIONS = [(4, 4), (5, 0), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5), (5, 6), (5, 7), (5, 8), (6, 0)]


def server_reads(path, side="S: "):
    reads, version = [], None
    for line in path.read_text().splitlines():
        if line.startswith("# bolt: "):
            major, minor = line.split()[-1].split(".")
            version = (int(major), int(minor))
        elif line.startswith(side):
            reads.append(bytes.fromhex(line[3:].strip()))
    return version, reads


def message_tags(read):
    """The tag of each complete message in chunked bytes (NOOPs skipped)."""
    tags, at, body = [], 0, b""
    while at + 2 <= len(read):
        n = int.from_bytes(read[at:at + 2], "big")
        at += 2
        if n == 0:
            if body:
                tags.append(body[1] if len(body) > 1 else None)
            body = b""
            continue
        body += read[at:at + n]
        at += n
    return tags


def bolt_server_seed(version, client_reads, manual):
    """bolt_server: the client's bytes as recorded, preamble included (byte 0 bit 6), each read
    fed whole (op 0, at most 255 bytes per op), every message in it answered (op 3: SUCCESS,
    after a RECORD for PULLs)."""
    ops = bytearray([0x40 | (0x10 if manual else 0) | CLIENT_VERSIONS.index(version)])
    for i, read in enumerate(client_reads):
        for at in range(0, len(read), 255):
            piece = read[at:at + 255]
            ops += bytes([0, len(piece)]) + piece
        # The first read is the preamble; on 5.7+ the second starts with the manifest choice.
        for tag in message_tags(read[5:] if i == 1 and read[:2] == b"\0\0" and len(read) > 5 and version >= (5, 7) else read) if i else []:
            if tag == 0x3F:
                ops += bytes([3, 3])
            if tag != 0x02:
                ops += bytes([3, 0])
    return bytes(ops)


def write(target, data):
    out = ROOT / "seeds" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / ("rec-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def main():
    for path in sorted(RECORDINGS.glob("*.txt")):
        version, reads = server_reads(path)
        if not reads:
            continue
        whole = b"".join(reads)
        # driver_responses: the server's bytes as recorded (handshake included), read whole and
        # 4 bytes at a time; and after the handshake and HELLO/LOGON answers with the target's
        # own valid prefix (bit 3) for the recorded version.
        write("driver_responses", bytes([0x00]) + whole)
        write("driver_responses", bytes([0x10]) + whole)
        if version in DRIVER_VERSIONS and len(reads) > 2:
            skip = 3 if version >= (5, 1) else 2
            after = b"".join(reads[skip:])
            write("driver_responses", bytes([0x08 | DRIVER_VERSIONS.index(version)]) + after)
        # bolt_client: RUN and PULL sent (ops 0 and 5), then the recorded answers after HELLO,
        # fed as raw server bytes (op 2, at most 255 bytes per op).
        if version in CLIENT_VERSIONS and len(reads) > 2:
            ops = bytearray([CLIENT_VERSIONS.index(version), 0, 0, 5, 3])
            for read in reads[3 if version >= (5, 1) else 2:]:
                for at in range(0, len(read), 255):
                    piece = read[at:at + 255]
                    ops += bytes([2, len(piece)]) + piece
            write("bolt_client", bytes(ops))
        _, client_reads = server_reads(path, "C: ")
        if version in CLIENT_VERSIONS and client_reads:
            for manual in (False, True):
                write("bolt_server", bolt_server_seed(version, client_reads, manual))
    # bolt_server after its own handshake: canned requests (op 2) answered (op 3) on every
    # version: HELLO, LOGON, RUN, PULL (a RECORD, then SUCCESS), BEGIN, COMMIT.
    for index in range(len(CLIENT_VERSIONS)):
        for flags in (0x00, 0x10, 0x20):
            ops = bytes([flags | index, 2, 0, 3, 0, 2, 1, 3, 0, 2, 3, 3, 0, 2, 7, 3, 3, 3, 0,
                         2, 4, 3, 0, 2, 5, 3, 0, 2, 12, 3, 0])
            write("bolt_server", ops)


if __name__ == "__main__":
    main()
