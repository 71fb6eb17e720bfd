"""The extension as the driver sees it: where it is found, what it exports, that the driver runs
through it, and that no input (hostile bytes, hooks that misbehave, cyclic values) gets a Rust
panic or a crash out of it."""

import gc
import importlib
import importlib.metadata
import random
import sys
import threading
import traceback

import pytest

import neo4j
from neo4j._codec.packstream import RUST_AVAILABLE, Structure, v1, v2
from neo4j._rust.codec.packstream import v1 as native_v1
from neo4j._rust.codec.packstream import v2 as native_v2
from neo4j.vector import _swap_endian_unchecked_py


def test_driver_uses_the_extension():
    assert RUST_AVAILABLE
    assert v1._rust_pack is native_v1.pack and v1._rust_unpack is native_v1.unpack
    assert v2._rust_pack is native_v2.pack and v2._rust_unpack is native_v2.unpack
    assert "Python-Rust/" in neo4j.get_user_agent()
    assert neo4j.vector._swap_endian_unchecked is sys.modules["neo4j._rust.vector"].swap_endian


@pytest.mark.parametrize(
    "name",
    [
        "neo4j._rust",
        "neo4j._rust.codec",
        "neo4j._rust.codec.packstream",
        "neo4j._rust.codec.packstream.v1",
        "neo4j._rust.codec.packstream.v2",
        "neo4j._rust.vector",
    ],
)
def test_module_names(name):
    module = importlib.import_module(name)
    assert module.__name__ == name
    assert sys.modules[name] is module


def test_wheel_ships_only_the_extension_module():
    files = [str(f) for f in importlib.metadata.files("quiver-neo4j-codec")]
    outside_metadata = [f for f in files if ".dist-info/" not in f]
    assert len(outside_metadata) == 1, files
    assert outside_metadata[0].startswith("neo4j/_rust.") and outside_metadata[0].endswith(".so")


def test_structure_is_the_drivers():
    assert Structure is sys.modules["neo4j._rust.codec.packstream"].Structure
    s = Structure(b"X", 1, [2], "three")
    assert (s.tag, s.fields, len(s), s[-1], s[0:2]) == (b"X", [1, [2], "three"], 3, "three", [1, [2]])
    s[1] = None
    s[-1] = "3"
    assert s == Structure(b"X", 1, None, "3") and s != Structure(b"Y", 1, None, "3")
    assert repr(Structure(b"\x00", "a", 1.5)) == "Structure(b'\\x00', 'a', 1.5)"
    assert eval(repr(s)) == s
    with pytest.raises(IndexError):
        s[3]
    with pytest.raises(TypeError):
        hash(s)
    for tag in (b"", b"XY", "X", 1, bytearray(b"X")):
        with pytest.raises(ValueError):
            Structure(tag)


def test_structure_cycles_are_collected():
    collected = []

    class Witness:
        def __del__(self):
            collected.append(True)

    s = Structure(b"X", Witness(), None)
    s[1] = s
    del s
    gc.collect()
    assert collected == [True]


def test_native_path_runs_for_pack():
    """A failing dehydration hook's traceback goes through the native pack, not _py_pack."""

    def failing(value):
        raise RuntimeError("hook failed")

    hooks = v1.DehydrationHooks(exact_values={}, exact_types={complex: failing}, subtypes={})
    packer = v1.Packer(v1.Packer.new_packable_buffer())
    with pytest.raises(RuntimeError) as info:
        packer.pack([1, {"a": complex(1, 2)}], dehydration_hooks=hooks)
    functions = [frame.name for frame in traceback.extract_tb(info.tb)]
    assert "_py_pack" not in functions and "_pack" in functions, functions


def test_native_path_runs_for_unpack():
    def failing(structure):
        raise RuntimeError("hook failed")

    buffer = v1.UnpackableBuffer(b"\x91\xb1X\x01")
    with pytest.raises(RuntimeError) as info:
        v1.Unpacker(buffer).unpack({Structure: failing})
    functions = [frame.name for frame in traceback.extract_tb(info.tb)]
    assert "_unpack" not in functions and "unpack" in functions, functions


@pytest.mark.parametrize("unpack", [native_v1.unpack, native_v2.unpack])
def test_truncated_input_is_a_value_error(unpack):
    # The official extension panics on a cut-off string; every prefix here must be a ValueError.
    message = native_v2.pack(
        {"s": "x" * 300, "b": b"y" * 300, "l": [1.5, -(2**40), None, Structure(b"N", 1, ["L"])]}
    )
    for cut in range(len(message)):
        for buf in (bytearray(message[:cut]), message[:cut]):
            with pytest.raises(ValueError):
                unpack(buf, 0)
    assert unpack(bytearray(message), 0)[1] == len(message)


def test_unpack_arguments():
    with pytest.raises(TypeError):
        native_v1.unpack(memoryview(b"\x01"), 0)
    with pytest.raises(TypeError):
        native_v1.unpack(bytearray(b"\x01"), 0, [])
    with pytest.raises(OverflowError):
        native_v1.unpack(bytearray(b"\x01"), -1)
    with pytest.raises(ValueError):
        native_v1.unpack(bytearray(b"\x01"), 5)
    assert native_v1.unpack(bytearray(b"\x01\x02"), 1) == (2, 2)


def test_hook_that_resizes_the_buffer():
    # The decoder works on copies, so a hook that changes the buffer mid-value cannot break it:
    # what was copied before the hook ran is decoded, what is gone after it is a ValueError.
    buf = bytearray(native_v1.pack([Structure(b"X", 1), "after"]) + bytes(10))

    def hook(structure):
        buf.clear()
        return "hydrated"

    assert native_v1.unpack(buf, 0, {Structure: hook})[0] == ["hydrated", "after"]
    buf.extend(native_v1.pack([Structure(b"X", 1), "after" * 1000]))
    with pytest.raises(ValueError):
        native_v1.unpack(buf, 0, {Structure: hook})

    big = bytearray(native_v1.pack([Structure(b"X", 1), "y" * 100_000]))

    def grow(structure):
        big.extend(bytes(1_000_000))
        return "hydrated"

    value, end = native_v1.unpack(big, 0, {Structure: grow})
    assert value == ["hydrated", "y" * 100_000]


def test_large_values_and_grown_buffers():
    strings = ["s" * 53] * 100_000
    message = native_v1.pack(strings)
    buf = bytearray(b"\xff" * 7) + bytearray(message) + bytearray(3_000_000)
    assert native_v1.unpack(buf, 7) == (strings, 7 + len(message))
    huge = "€" * 3_000_000
    message = native_v1.pack([huge, 1])
    assert native_v1.unpack(bytearray(message), 0) == ([huge, 1], len(message))
    # A small value at the start of a buffer a big message has grown.
    small = native_v1.pack({"k": [1, 2, 3]})
    buf = bytearray(small) + bytearray(50_000_000)
    for _ in range(1000):
        assert native_v1.unpack(buf, 0) == ({"k": [1, 2, 3]}, len(small))


def test_repeated_strings():
    """Repeated short ASCII strings come back as one object; everything comes back equal."""
    rng = random.Random(11)
    pool = ["", "a", "ab", "k" * 64, "k" * 65, "é", "x" * 63 + "y", "y" + "x" * 63,
            *(f"key{i:03d}" for i in range(600))]
    for size in (10, 100, 5000):
        value = [rng.choice(pool) for _ in range(size)]
        data = bytearray(native_v1.pack(value))
        decoded, end = native_v1.unpack(data, 0)
        assert decoded == value and end == len(data)
    repeated = native_v1.unpack(bytearray(native_v1.pack(["same string"] * 100)), 0)[0]
    assert repeated[99] is repeated[98]
    # Unique strings after the cache has turned itself off.
    unique = [f"u{i}" for i in range(3000)] + ["same"] * 50
    assert native_v1.unpack(bytearray(native_v1.pack(unique)), 0)[0] == unique


def test_lying_sizes_allocate_nothing_big():
    for header in (b"\xd6\xff\xff\xff\xff", b"\xda\xff\xff\xff\xff", b"\xd2\xff\xff\xff\xff",
                   b"\xce\xff\xff\xff\xff"):
        with pytest.raises(ValueError):
            native_v1.unpack(bytearray(header + b"\x01" * 10), 0)


def test_recursion_limits():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(RecursionError):
        native_v1.pack(cyclic)
    with pytest.raises(RecursionError):
        native_v1.unpack(bytearray(b"\x91" * 100_000 + b"\x01"), 0)
    nested = 1
    for _ in range(1000):
        nested = [nested]
    # Deeper than the pure-Python codec goes (Python's == cannot compare it either).
    data = native_v1.pack(nested)
    assert native_v1.pack(native_v1.unpack(bytearray(data), 0)[0]) == data


def test_swap_endian_matches_pure_python():
    swap_endian = sys.modules["neo4j._rust.vector"].swap_endian
    rng = random.Random(7)
    for size in (2, 4, 8):
        for count in (0, 1, 3, 1000):
            data = rng.randbytes(size * count)
            assert swap_endian(size, data) == _swap_endian_unchecked_py(size, data)
    for size in (0, 1, 3, 16, -2):
        with pytest.raises(ValueError):
            swap_endian(size, b"\x00" * 16)
    with pytest.raises(ValueError):
        swap_endian(4, b"\x00" * 6)


def test_threads():
    values = [{"i": i, "s": "x" * i, "l": list(range(i))} for i in range(200)]
    errors = []

    def work():
        try:
            for value in values:
                data = native_v2.pack(value)
                assert native_v2.unpack(bytearray(data), 0) == (value, len(data))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
