"""Shared setup: the official driver as installed (with Quiver's codec) and, in the same process, a
second copy of the driver's codec modules loaded with `neo4j._rust` blocked: the pure-Python codec
that ships in the `neo4j` wheel, the reference every differential test compares against. (Only the
codec: the driver as a whole imports lazily and cannot run twice in one process; the end-to-end
tests run the pure driver in a subprocess.)

Run from the crate directory after installing the wheel next to `neo4j==6.4.1`; see run.py.
"""

import importlib
import sys
import types

import pytest

import neo4j
from neo4j._codec import packstream as _ext_packstream
from pure_python import block_native_codec


def _driver_modules():
    return {
        name: module
        for name, module in sys.modules.items()
        if name == "neo4j" or name.startswith("neo4j.")
    }


def _codec(packstream_v1, packstream_v2, structure, hydration_v2, common):
    return types.SimpleNamespace(
        v1=packstream_v1,
        v2=packstream_v2,
        Structure=structure,
        hydration_v2=hydration_v2,
        UnpackableBuffer=common.UnpackableBuffer,
    )


def _load_codec():
    return _codec(
        importlib.import_module("neo4j._codec.packstream.v1"),
        importlib.import_module("neo4j._codec.packstream.v2"),
        importlib.import_module("neo4j._codec.packstream").Structure,
        importlib.import_module("neo4j._codec.hydration.bolt.v2"),
        importlib.import_module("neo4j._codec.packstream._common"),
    )


def _load_pure_codec():
    installed = _driver_modules()
    for name in installed:
        del sys.modules[name]
    blocker = block_native_codec()
    try:
        pure = _load_codec()
        assert not importlib.import_module("neo4j._codec.packstream").RUST_AVAILABLE
        assert pure.v1._rust_pack is None and pure.v2._rust_unpack is None
        assert "Python-Rust" not in importlib.import_module("neo4j").get_user_agent()
    finally:
        sys.meta_path.remove(blocker)
        for name in _driver_modules():
            del sys.modules[name]
        sys.modules.update(installed)
    return pure


if not _ext_packstream.RUST_AVAILABLE:
    raise RuntimeError(
        "neo4j._rust is not installed next to the driver: install the wheel first (see run.py)"
    )

EXT = _load_codec()
PURE = _load_pure_codec()
assert EXT.Structure is not PURE.Structure
assert EXT.Structure.__module__ == "neo4j._rust.codec.packstream"


@pytest.fixture
def ext():
    """The driver's codec with Quiver's native module."""
    return EXT


@pytest.fixture
def pure():
    """The driver's own pure-Python codec (same driver version, native module blocked)."""
    return PURE


def pytest_report_header(config):
    return [
        f"neo4j {neo4j.__version__}, user agent: {neo4j.get_user_agent()}",
        f"native codec: {sys.modules['neo4j._rust'].__file__}",
    ]


def pytest_terminal_summary(terminalreporter):
    differential = sys.modules.get("test_differential")
    if differential is None or not differential.CASES:
        return
    cases = differential.CASES
    terminalreporter.section("differential cases (Quiver vs pure-Python codec)")
    for kind, count in sorted(cases.items()):
        terminalreporter.write_line(f"{count:7d}  {kind}")
    terminalreporter.write_line(f"{sum(cases.values()):7d}  in all")
