"""End to end: the official driver with Quiver's codec against a real Neo4j, side by side with the
same driver without it (its pure-Python codec: the same scenario run in a subprocess that blocks
the extension, see pure_python.py), on Python versions of the demo's examples (crates/quiver-tokio/examples) and a
100,000-row stream. Both must give the same results.

Needs NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD (`cargo xtask test` sets them); fails without.
"""

import asyncio
import datetime
import os
import pickle
import subprocess
import sys
import uuid

import pytest


@pytest.fixture(scope="module")
def server():
    missing = [v for v in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD") if v not in os.environ]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: start a server (`cargo xtask server start neo4j-5`, "
            "then `cargo xtask server env neo4j-5`) or run through `cargo xtask test`"
        )
    return os.environ["NEO4J_URI"], (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])


def plain(value):
    """A value of either driver copy as plain data (the two copies have distinct classes)."""
    if isinstance(value, (list, tuple)) and not hasattr(value, "srid"):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "srid"):  # spatial point
        return ("point", value.srid, tuple(value))
    if hasattr(value, "iso_format"):  # neo4j.time types
        return (type(value).__name__, value.iso_format())
    if hasattr(value, "element_id") and hasattr(value, "labels"):  # node
        return ("node", sorted(value.labels), plain(dict(value)))
    return value


def both(scenario, server):
    """Runs `scenario(neo4j, uri, auth)` here (Quiver's codec) and in a pure-Python subprocess."""
    import neo4j

    assert "Python-Rust/" in neo4j.get_user_agent()
    quiver = scenario(neo4j, *server)
    pure = subprocess.run(
        [sys.executable, __file__, scenario.__name__],
        check=True,
        stdout=subprocess.PIPE,
    )
    assert pickle.loads(pure.stdout) == quiver
    return quiver


def execute_query_example(neo4j, uri, auth):
    run = str(uuid.uuid4())
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        driver.execute_query(
            "UNWIND $names AS name MERGE (:ExamplePerson {name: name, run: $run})",
            names=["Alice", "Bob", "Carol", "Åsa 🎉"],
            run=run,
        )
        records, summary, keys = driver.execute_query(
            "MATCH (p:ExamplePerson {run: $run}) RETURN p.name AS name, p ORDER BY name",
            run=run,
            routing_=neo4j.RoutingControl.READ,
        )
        driver.execute_query("MATCH (p:ExamplePerson {run: $run}) DELETE p", run=run)
        rows = [[record["name"], plain(record["p"])] for record in records]
        for row in rows:
            row[1][2].pop("run")
        return keys, rows, summary.server.protocol_version >= (5, 0)


def test_execute_query(server):
    keys, rows, bolt5 = both(execute_query_example, server)
    assert keys == ["name", "p"] and bolt5
    assert [name for name, _ in rows] == ["Alice", "Bob", "Carol", "Åsa 🎉"]


def transaction_function_example(neo4j, uri, auth):
    run = str(uuid.uuid4())
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        with driver.session() as writer:
            writer.execute_write(
                lambda tx: tx.run(
                    "MERGE (:ExampleCity {name: $name, population: $population, run: $run,"
                    " founded: $founded, at: $at})",
                    name="Malmö",
                    population=357_377,
                    run=run,
                    founded=datetime.date(1275, 1, 1),
                    at=neo4j.spatial.WGS84Point((13.0038, 55.6050)),
                ).consume()
            )
            bookmarks = writer.last_bookmarks()
        # The reader starts from the writer's bookmarks: it must see the write.
        with driver.session(bookmarks=bookmarks, default_access_mode=neo4j.READ_ACCESS) as reader:
            cities = reader.execute_read(
                lambda tx: [
                    [record["name"], record["population"], plain(record["founded"]), plain(record["at"])]
                    for record in tx.run(
                        "MATCH (c:ExampleCity {run: $run})"
                        " RETURN c.name AS name, c.population AS population,"
                        " c.founded AS founded, c.at AS at",
                        run=run,
                    )
                ]
            )
        driver.execute_query("MATCH (c:ExampleCity {run: $run}) DELETE c", run=run)
        return cities


def test_session_execute_read(server):
    cities = both(transaction_function_example, server)
    assert cities == [["Malmö", 357_377, ("Date", "1275-01-01"), ("point", 4326, (13.0038, 55.605))]]


async def concurrent_transactions(neo4j, uri, auth, tasks=8, writes=15):
    """N writer and N reader tasks; each reader reads its writer's last write from the bookmarks
    that write left (causal consistency); every write is counted at the end."""
    run = str(uuid.uuid4())
    published = [(0, None)] * tasks
    async with neo4j.AsyncGraphDatabase.driver(uri, auth=auth) as driver:

        async def writer(w):
            for seq in range(1, writes + 1):
                async with driver.session() as session:
                    await session.execute_write(
                        lambda tx: _consume(tx.run(
                            "CREATE (:ExampleWrite {run: $run, writer: $w, seq: $seq})",
                            run=run, w=w, seq=seq,
                        ))
                    )
                    published[w] = (seq, await session.last_bookmarks())
                await asyncio.sleep(0)

        async def reader(r):
            checked = []
            while len(checked) < writes:
                seq, bookmarks = published[r]
                if seq == 0 or (checked and checked[-1][0] == seq):
                    await asyncio.sleep(0.005)
                    continue
                async with driver.session(bookmarks=bookmarks) as session:
                    seen = await session.execute_read(
                        lambda tx: _single(tx.run(
                            "MATCH (w:ExampleWrite {run: $run, writer: $w, seq: $seq})"
                            " RETURN count(w) AS c",
                            run=run, w=r, seq=seq,
                        ))
                    )
                checked.append((seq, seen))
                if seq == writes:
                    break
            return checked

        results = await asyncio.gather(*(writer(w) for w in range(tasks)), *(reader(r) for r in range(tasks)))
        records, _, _ = await driver.execute_query(
            "MATCH (w:ExampleWrite {run: $run}) RETURN count(w) AS c", run=run
        )
        await driver.execute_query("MATCH (w:ExampleWrite {run: $run}) DELETE w", run=run)
    reads = [read for checked in results[tasks:] for read in checked]
    return {
        "stored": records[0]["c"],
        "every read saw its write": all(seen == 1 for _, seen in reads),
        "each reader reached the last write": all(c[-1][0] == writes for c in results[tasks:]),
    }


async def _consume(result):
    return await (await result).consume()


async def _single(result):
    return (await (await result).single())["c"]


def concurrent_transactions_example(neo4j, uri, auth):
    return asyncio.run(concurrent_transactions(neo4j, uri, auth))


def test_concurrent_async_transactions_with_bookmarks(server):
    outcome = both(concurrent_transactions_example, server)
    assert outcome == {
        "stored": 8 * 15,
        "every read saw its write": True,
        "each reader reached the last write": True,
    }


def stream(neo4j, uri, auth, rows=100_000):
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        with driver.session() as session:
            result = session.run(
                "UNWIND range(1, $rows) AS i RETURN i, toString(i) AS s, i * 0.5 AS f,"
                " [i, -i, 'x' + toString(i % 7)] AS l, {k: i, odd: i % 2 = 1} AS m,"
                " CASE WHEN i % 1000 = 0 THEN date('2024-01-01') + duration({days: i / 1000})"
                "   ELSE null END AS d,"
                " CASE WHEN i % 5000 = 0 THEN point({x: i, y: 0.5}) ELSE null END AS p",
                rows=rows,
            )
            return [plain(record.values()) for record in result]


def test_stream_of_100000_rows(server):
    rows = both(stream, server)
    assert len(rows) == 100_000
    assert rows[999] == [1000, "1000", 500.0, [1000, -1000, "x6"], {"k": 1000, "odd": False},
                         ("Date", "2024-01-02"), None]
    assert rows[4999][6] == ("point", 7203, (5000.0, 0.5))


if __name__ == "__main__":
    # The pure-Python side of `both`: block the extension, then import the driver.
    from pure_python import block_native_codec

    block_native_codec()
    import neo4j

    assert "Python-Rust" not in neo4j.get_user_agent()
    uri, auth = os.environ["NEO4J_URI"], (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
    result = globals()[sys.argv[1]](neo4j, uri, auth)
    sys.stdout.buffer.write(pickle.dumps(result))
