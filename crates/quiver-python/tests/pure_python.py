"""Blocking `neo4j._rust`, so that the driver imported afterwards uses its pure-Python codec."""

import sys


class BlockNativeCodec:
    """A meta-path finder that makes `import neo4j._rust…` fail as if no extension were installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "neo4j._rust" or name.startswith("neo4j._rust."):
            raise ImportError(f"{name} is blocked: the pure-Python codec is wanted")
        return None


def block_native_codec():
    """Installs the blocker for the rest of the process; returns it (to remove it again)."""
    blocker = BlockNativeCodec()
    sys.meta_path.insert(0, blocker)
    return blocker
