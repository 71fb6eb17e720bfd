#!/usr/bin/env python3
"""Smoke test of a Bolt server with the official Neo4j Python driver (`pip install neo4j`).

Creates a node and reads it back with auth, over plain Bolt and, when a TLS URI is given, over TLS
trusting exactly the server's certificate (and checks that an untrusted connection is refused).
Defaults come from the environment `cargo xtask test` sets: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD,
NEO4J_TLS_URI, NEO4J_TLS_CA.

    python3 tests/smoke/smoke.py --uri bolt://127.0.0.1:7697 --bolt-versions 6.0
"""

import argparse
import os
import socket
import struct
import sys
import uuid

try:
    import neo4j
    from neo4j import GraphDatabase, TrustCustomCAs
    from neo4j.exceptions import ServiceUnavailable
except ImportError:
    sys.exit("smoke.py needs the official driver: python3 -m pip install 'neo4j==6.*'")


def round_trip(driver, database, label):
    """Creates a node, reads it back, deletes it; returns the server summary of the read."""
    marker = str(uuid.uuid4())
    driver.execute_query(
        "CREATE (n:QuiverSmoke {marker: $marker, via: $via})",
        marker=marker,
        via=label,
        database_=database,
    )
    records, summary, _ = driver.execute_query(
        "MATCH (n:QuiverSmoke {marker: $marker}) RETURN n.via AS via",
        marker=marker,
        database_=database,
    )
    if [record["via"] for record in records] != [label]:
        raise AssertionError(f"{label}: read back {records!r}, expected one node via={label!r}")
    driver.execute_query(
        "MATCH (n:QuiverSmoke {marker: $marker}) DELETE n", marker=marker, database_=database
    )
    return summary


def accepts_only(uri, version):
    """Offers the server exactly one Bolt version in a raw handshake; returns True if it agrees."""
    host, port = uri.split("://", 1)[1].rsplit(":", 1)
    major, minor = (int(part) for part in version.split("."))
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"\x60\x60\xb0\x17" + struct.pack(">4I", (minor << 8) | major, 0, 0, 0))
        reply = b""
        while len(reply) < 4:
            chunk = sock.recv(4 - len(reply))
            if not chunk:
                return False
            reply += chunk
    return reply == bytes([0, 0, minor, major])


def describe(summary):
    server = summary.server
    version = ".".join(str(part) for part in server.protocol_version)
    return version, f"agent={server.agent!r} bolt={version} address={server.address}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    parser.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    parser.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD", "quiver-test-password"))
    parser.add_argument("--tls-uri", default=os.environ.get("NEO4J_TLS_URI"))
    parser.add_argument("--ca", default=os.environ.get("NEO4J_TLS_CA"))
    parser.add_argument("--no-tls", action="store_true", help="skip TLS even if NEO4J_TLS_URI is set")
    parser.add_argument("--database", default=None, help="database name (default: the server's)")
    parser.add_argument(
        "--bolt-versions",
        default=None,
        help="comma-separated, e.g. 6.0,5.8: each offered alone in a raw handshake must be accepted",
    )
    args = parser.parse_args()

    auth = (args.user, args.password)
    passed = failed = 0

    def check(name, action):
        nonlocal passed, failed
        try:
            detail = action()
            print(f"ok      {name}: {detail}")
            passed += 1
        except Exception as error:  # noqa: BLE001 - report every failure and go on
            print(f"FAILED  {name}: {type(error).__name__}: {error}")
            failed += 1

    def plain():
        with GraphDatabase.driver(args.uri, auth=auth) as driver:
            return describe(round_trip(driver, args.database, "plain"))[1]

    check(f"create+read over {args.uri}", plain)

    for version in filter(None, (args.bolt_versions or "").split(",")):

        def handshake(version=version.strip()):
            if not accepts_only(args.uri, version):
                raise AssertionError(f"the server refused a handshake offering only Bolt {version}")
            return "accepted"

        check(f"handshake offering only Bolt {version.strip()}", handshake)

    if args.tls_uri and not args.no_tls:
        if not args.ca:
            sys.exit("--tls-uri needs --ca (the server's certificate; NEO4J_TLS_CA)")
        # Custom trust needs the plain scheme plus encrypted=True in the Python driver.
        host_port = args.tls_uri.split("://", 1)[1]

        def tls_with_ca():
            with GraphDatabase.driver(
                "bolt://" + host_port,
                auth=auth,
                encrypted=True,
                trusted_certificates=TrustCustomCAs(args.ca),
            ) as driver:
                return describe(round_trip(driver, args.database, "tls"))[1]

        def tls_untrusted_is_refused():
            with GraphDatabase.driver("bolt+s://" + host_port, auth=auth) as driver:
                try:
                    driver.verify_connectivity()
                except ServiceUnavailable as error:
                    return f"refused as expected ({str(error)[:60]}...)"
            raise AssertionError("a self-signed certificate was accepted without trusting it")

        def tls_self_signed_scheme():
            with GraphDatabase.driver("bolt+ssc://" + host_port, auth=auth) as driver:
                driver.verify_connectivity()
                return "bolt+ssc connects"

        check(f"create+read over TLS {args.tls_uri} trusting {args.ca}", tls_with_ca)
        check("TLS without trusting the certificate", tls_untrusted_is_refused)
        check("TLS with bolt+ssc", tls_self_signed_scheme)

    print(f"smoke (neo4j driver {neo4j.__version__}): {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
