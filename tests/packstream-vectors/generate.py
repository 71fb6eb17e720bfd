#!/usr/bin/env python3
"""Regenerate vectors.json: PackStream bytes written by the official Neo4j Python driver's packer.

Usage:
    python3 -m venv .venv && .venv/bin/pip install neo4j
    .venv/bin/python tests/packstream-vectors/generate.py

The Rust test `crates/quiver-packstream/tests/interop_vectors.rs` reads only the committed
vectors.json: for each vector it decodes the bytes, checks the value against the description,
and re-encodes it byte-identically. Python is not needed at test time.

Each vector is {"name", "hex" | "hex_runs", "value" | "header"}:
  * "hex" is the packed bytes; long inputs use "hex_runs" instead, a list of
    [hex, repeat] pairs whose expansion is the bytes (runs of one byte are compressed).
  * "value" describes the value in tagged JSON (see `describe`; plus {"t": "nested_list",
    "depth": N} for N nested lists with an empty innermost list).
  * "header" vectors hold only a container header written by the packer's header method:
    {"kind": "list" | "map" | "string" | "bytes", "len": N}, for sizes up to 2^32-1.

The generator packs every value with both the pure-Python packer and (when installed) the
neo4j-rust-ext packer and refuses to write anything if they disagree.
"""

import json
import math
import random
import struct
import sys
from pathlib import Path

import neo4j
from neo4j._codec.packstream import Structure
from neo4j._codec.packstream.v1 import Packer, PackableBuffer

try:
    from neo4j._rust.codec.packstream.v1 import pack as rust_pack
except ImportError:  # neo4j-rust-ext not installed: pure Python only
    rust_pack = None

OUT = Path(__file__).with_name("vectors.json")


def py_pack(value):
    buf = PackableBuffer()
    Packer(buf)._py_pack(value, Packer._inject_hooks())
    return bytes(buf.data)


def pack(value):
    data = py_pack(value)
    if rust_pack is not None:
        rust = bytes(rust_pack(value, Packer._inject_hooks()))
        if rust != data:
            sys.exit(f"pure-Python and Rust packers disagree on {value!r:.200}")
    return data


def pack_header(kind, size):
    buf = PackableBuffer()
    packer = Packer(buf)
    {
        "list": packer._pack_list_header,
        "map": packer._pack_map_header,
        "string": packer._pack_string_header,
        "bytes": packer._pack_bytes_header,
    }[kind](size)
    return bytes(buf.data)


def describe(value):
    """Tagged JSON for a value. Integers go as strings and floats as their bits, so no JSON
    reader can round them; long repeated strings/lists are run-length described."""
    if value is None:
        return {"t": "null"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "bits": struct.pack(">d", value).hex()}
    if isinstance(value, str):
        if len(value) > 64 and len(set(value)) == 1:
            return {"t": "str", "v": value[0], "repeat": len(value)}
        return {"t": "str", "v": value}
    if isinstance(value, (bytes, bytearray)):
        if len(value) > 64 and len(set(value)) == 1:
            return {"t": "bytes", "hex": bytes(value[:1]).hex(), "repeat": len(value)}
        return {"t": "bytes", "hex": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        if len(value) > 64 and all(v == value[0] and type(v) is type(value[0]) for v in value):
            return {"t": "list", "repeat": len(value), "of": describe(value[0])}
        return {"t": "list", "v": [describe(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "map", "v": [[k, describe(v)] for k, v in value.items()]}
    if isinstance(value, Structure):
        return {"t": "struct", "tag": value.tag[0], "v": [describe(f) for f in value.fields]}
    raise TypeError(f"cannot describe {type(value)}")


def hex_field(data):
    if len(data) <= 512:
        return {"hex": data.hex()}
    runs = []
    i = 0
    literal = bytearray()
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        if j - i >= 8:
            if literal:
                runs.append([literal.hex(), 1])
                literal = bytearray()
            runs.append([data[i : i + 1].hex(), j - i])
        else:
            literal += data[i:j]
        i = j
    if literal:
        runs.append([literal.hex(), 1])
    return {"hex_runs": runs}


vectors = []


def add(name, value, description=None):
    description = description if description is not None else describe(value)
    vectors.append({"name": name, **hex_field(pack(value)), "value": description})


def add_header(kind, size):
    data = pack_header(kind, size)
    vectors.append({"name": f"{kind}_header_{size}", "hex": data.hex(), "header": {"kind": kind, "len": size}})


def main():
    rng = random.Random(20260226)

    # Scalars.
    add("null", None)
    add("true", True)
    add("false", False)

    # Integers around every marker boundary.
    edges = [0, 16, 17, 127, 128, 255, 256, 2**15, 2**31, 2**32, 2**63 - 1, 2**63]
    ints = set()
    for e in edges:
        for d in (-2, -1, 0, 1, 2):
            for s in (1, -1):
                n = s * e + d
                if -(2**63) <= n < 2**63:
                    ints.add(n)
    for bits in (7, 8, 15, 16, 31, 32, 48, 62, 63):
        for _ in range(2):
            ints.add(rng.randrange(-(2**bits), 2**bits))
    for n in sorted(ints):
        add(f"int_{n}", n)

    # Floats: bit patterns that must survive exactly.
    float_bits = [
        0x0000000000000000, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000,
        0x3FF199999999999A, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
        0xFFF8000000000000, 0x7FF8000000000001, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF,
        0x7FF4000000000000, 0x7FF0000000000001, 0x0000000000000001, 0x800FFFFFFFFFFFFF,
        0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x400921FB54442D18,
    ]
    for b in float_bits:
        add(f"float_{b:016x}", struct.unpack(">d", b.to_bytes(8, "big"))[0])
    for _ in range(10):
        f = rng.uniform(-1e300, 1e300) * rng.choice([1, 1e-300, 1e-10])
        add(f"float_{struct.pack('>d', f).hex()}", f)

    # Strings: sizes at each boundary (bytes, not characters), and awkward Unicode.
    for n in (0, 1, 14, 15, 16, 17, 254, 255, 256, 257, 65534, 65535, 65536, 65537, 100000):
        add(f"string_len_{n}", "a" * n)
    samples = {
        "ascii": "Hello, World!",
        "latin1": "Grüße, Jürgen",
        "cjk": "日本語のテキスト",
        "emoji": "🎉🦀👩‍👩‍👧",
        "combining": "e\u0301\u0302",
        "nul": "a\x00b",
        "bom": "\ufeffx",
        "max_code_point": "\U0010ffff",
        "surrogate_neighbours": "\ud7ff\ue000",
        "multibyte_15": "é" * 7 + "a",
        "multibyte_16": "é" * 8,
        "multibyte_255": "日" * 85,
        "multibyte_256": "日" * 85 + "a",
        "multibyte_65536": "€" * 21845 + "a",
    }
    for name, s in samples.items():
        add(f"string_{name}", s)
    for i in range(10):
        n = rng.choice([3, 20, 300])
        s = "".join(chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0xA0, 0xD800),
                                    rng.randrange(0x10000, 0x110000)])) for _ in range(n))
        add(f"string_random_{i}", s)

    # Byte arrays (no tiny form).
    for n in (0, 1, 15, 16, 255, 256, 65535, 65536, 70000):
        add(f"bytes_len_{n}", b"\xab" * n)
    add("bytes_all_values", bytes(range(256)))
    add("bytearray", bytearray(b"\x00\xff\x10"))

    # Lists.
    for n in (0, 1, 15, 16, 255, 256, 65535, 65536):
        add(f"list_len_{n}", [1] * n)
    add("list_mixed", [None, True, False, 1, -1, 1.5, "x", b"\x01", [], {}])
    add("list_tuple", (1, 2, 3))
    nested = []
    for _ in range(63):
        nested = [nested]
    # 64 lists deep: exactly the default depth limit. Described compactly because JSON
    # readers limit nesting too: {"t": "nested_list", "depth": N} is N lists, innermost empty.
    add("list_nested_64", nested, {"t": "nested_list", "depth": 64})
    add("list_of_strings_300", [f"s{i}" for i in range(300)])

    # Maps (Python dicts have unique keys; insertion order is kept).
    for n in (0, 1, 15, 16, 17, 255, 256, 257, 1000):
        add(f"map_len_{n}", {f"k{i}": i for i in range(n)})
    add("map_empty_key", {"": 1})
    add("map_unicode_keys", {"ключ": "значение", "🔑": [1, 2], "é": {"inner": None}})
    add("map_nested", {"a": {"b": {"c": {"d": [1, {"e": 2.5}]}}}})
    add("map_metadata", {"fields": ["n", "m"], "t_first": 12, "qid": -1, "has_more": False,
                         "bookmark": "FB:kcwQ", "db": "neo4j"})

    # Structures.
    for n in range(16):
        add(f"struct_fields_{n}", Structure(b"\x7f", *range(n)))
    add("struct_node", Structure(b"N", 42, ["Person", "Admin"], {"name": "Alice", "age": 33}, "4:db:42"))
    add("struct_relationship", Structure(b"R", 1, 2, 3, "KNOWS", {"since": 1999}, "5:r:1", "4:n:2", "4:n:3"))
    add("struct_date", Structure(b"D", 19000))
    add("struct_datetime", Structure(b"I", 1700000000, 123456789, 3600))
    add("struct_datetime_zone", Structure(b"i", 1700000000, 0, "Europe/Stockholm"))
    add("struct_duration", Structure(b"E", 14, 3, 5, 6))
    add("struct_point3d", Structure(b"Y", 4979, 1.0, 2.0, float("nan")))
    add("struct_tag_00", Structure(b"\x00"))
    add("struct_tag_ff", Structure(b"\xff", None))
    add("struct_nested", Structure(b"P", [Structure(b"N", 1, [], {}, "a")], [], []))
    add("bolt_hello", Structure(b"\x01", {"user_agent": "quiver/0.1", "bolt_agent": {"product": "quiver/0.1"}}))
    add("bolt_record", Structure(b"q", [1, "two", 3.0, None, [4], {"five": 5}]))

    # Random trees.
    def random_value(depth):
        choice = rng.randrange(10 if depth < 3 else 6)
        if choice == 0:
            return None
        if choice == 1:
            return rng.random() < 0.5
        if choice == 2:
            return rng.randrange(-(2**63), 2**63) >> rng.randrange(64)
        if choice == 3:
            return rng.choice([rng.uniform(-1e6, 1e6), math.inf, -0.0, 1e-320])
        if choice == 4:
            return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(40)))
        if choice == 5:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
        if choice in (6, 7):
            return [random_value(depth + 1) for _ in range(rng.randrange(8))]
        if choice == 8:
            return {f"key{rng.randrange(1000)}": random_value(depth + 1) for _ in range(rng.randrange(8))}
        return Structure(bytes([rng.randrange(256)]), *[random_value(depth + 1) for _ in range(rng.randrange(6))])

    for i in range(120):
        add(f"random_{i}", random_value(0))

    # Container headers at every boundary, up to the largest encodable size.
    for kind in ("list", "map", "string", "bytes"):
        for n in (0, 1, 15, 16, 255, 256, 65535, 65536, 2**32 - 1):
            add_header(kind, n)

    names = [v["name"] for v in vectors]
    assert len(names) == len(set(names)), "duplicate vector names"
    doc = {
        "generator": "tests/packstream-vectors/generate.py",
        "neo4j_driver_version": neo4j.__version__,
        "checked_against_rust_ext": rust_pack is not None,
        "vectors": vectors,
    }
    # One vector per line keeps diffs readable.
    head = json.dumps({k: v for k, v in doc.items() if k != "vectors"}, ensure_ascii=False)
    lines = [json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in vectors]
    text = head[:-1] + ',\n"vectors":[\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)  # self-check
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {OUT}")


if __name__ == "__main__":
    main()
