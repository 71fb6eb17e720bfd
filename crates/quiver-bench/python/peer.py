"""The official Python driver in the cross-driver benchmark (protocol: ../src/peer.rs).

python peer.py <sync|async> <workload> <count> <warmup> <concurrency> <persons>

Run from a virtual environment holding neo4j (pure Python) or neo4j-rust-ext (the same driver
with its PackStream codec in Rust). Sync: the concurrent transaction functions are threads, each
with its own session; asyncio: tasks on one event loop.
"""
import asyncio
import os
import random
import resource
import sys
import threading
import time

import neo4j

RETURN_1 = "RETURN 1"
STREAM = "UNWIND range(1, $rows) AS i RETURN i, 'name-' + toString(i) AS s, {id: i, tag: 'row'} AS m"
READ_PERSON = "MATCH (p:QuiverBenchPerson {id: $id}) RETURN p.name AS name, p.age AS age"
WRITE_PERSON = "MATCH (p:QuiverBenchPerson {id: $id}) SET p.score = p.score + 1 RETURN p.score AS score"

URI = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
AUTH = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "quiver-test-password"))


def cpu_us():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e6)


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def report(units, wall_s, cpu_start):
    print(
        f"QUIVER-BENCH units={units} wall_ns={int(wall_s * 1e9)} cpu_start_us={cpu_start} "
        f"cpu_end_us={cpu_us()} hwm_kb={peak_rss_kib()}",
        flush=True,
    )
    os._exit(0)


def stream_row(record):
    return record["i"] + len(record["s"]) + record["m"]["id"]


def read_person(tx, person):
    return tx.run(READ_PERSON, id=person).single(strict=True)["name"]


def write_person(tx, person):
    return tx.run(WRITE_PERSON, id=person).single(strict=True)["score"]


async def read_person_async(tx, person):
    return (await (await tx.run(READ_PERSON, id=person)).single(strict=True))["name"]


async def write_person_async(tx, person):
    return (await (await tx.run(WRITE_PERSON, id=person)).single(strict=True))["score"]


def run_sync(workload, count, warmup, concurrency, persons):
    if workload == "connect":
        cpu_start, wall = cpu_us(), time.perf_counter()
        driver = neo4j.GraphDatabase.driver(URI, auth=AUTH)
        with driver.session() as session:
            list(session.run(RETURN_1))
        report(1, time.perf_counter() - wall, cpu_start)
    driver = neo4j.GraphDatabase.driver(URI, auth=AUTH)
    driver.verify_connectivity()
    if workload == "return1":
        with driver.session() as session:
            for _ in range(warmup):
                list(session.run(RETURN_1))
            cpu_start, wall = cpu_us(), time.perf_counter()
            for _ in range(count):
                list(session.run(RETURN_1))
            report(count, time.perf_counter() - wall, cpu_start)
    if workload == "stream":
        with driver.session() as session:

            def stream():
                rows, checksum = 0, 0
                for record in session.run(STREAM, rows=count):
                    checksum += stream_row(record)
                    rows += 1
                assert rows == count, rows
                return rows

            for _ in range(warmup):
                stream()
            cpu_start, wall = cpu_us(), time.perf_counter()
            rows = stream()
            report(rows, time.perf_counter() - wall, cpu_start)
    if workload in ("tx-read", "tx-write"):
        write = workload == "tx-write"

        def phase(seed, millis):
            deadline = time.monotonic() + millis / 1000
            done = [0] * concurrency

            def worker(n):
                ids = random.Random(seed + n)
                with driver.session() as session:
                    while time.monotonic() < deadline:
                        person = ids.randrange(persons)
                        if write:
                            session.execute_write(write_person, person)
                        else:
                            session.execute_read(read_person, person)
                        done[n] += 1

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sum(done)

        phase(1000, warmup)
        cpu_start, wall = cpu_us(), time.perf_counter()
        units = phase(2000, count)
        report(units, time.perf_counter() - wall, cpu_start)
    sys.exit(f"unknown workload {workload}")


async def run_async(workload, count, warmup, concurrency, persons):
    if workload == "connect":
        cpu_start, wall = cpu_us(), time.perf_counter()
        driver = neo4j.AsyncGraphDatabase.driver(URI, auth=AUTH)
        async with driver.session() as session:
            await (await session.run(RETURN_1)).data()
        report(1, time.perf_counter() - wall, cpu_start)
    driver = neo4j.AsyncGraphDatabase.driver(URI, auth=AUTH)
    await driver.verify_connectivity()
    if workload == "return1":
        async with driver.session() as session:
            for _ in range(warmup):
                [r async for r in await session.run(RETURN_1)]
            cpu_start, wall = cpu_us(), time.perf_counter()
            for _ in range(count):
                [r async for r in await session.run(RETURN_1)]
            report(count, time.perf_counter() - wall, cpu_start)
    if workload == "stream":
        async with driver.session() as session:

            async def stream():
                rows, checksum = 0, 0
                async for record in await session.run(STREAM, rows=count):
                    checksum += stream_row(record)
                    rows += 1
                assert rows == count, rows
                return rows

            for _ in range(warmup):
                await stream()
            cpu_start, wall = cpu_us(), time.perf_counter()
            rows = await stream()
            report(rows, time.perf_counter() - wall, cpu_start)
    if workload in ("tx-read", "tx-write"):
        write = workload == "tx-write"

        async def phase(seed, millis):
            deadline = time.monotonic() + millis / 1000

            async def worker(n):
                ids = random.Random(seed + n)
                done = 0
                async with driver.session() as session:
                    while time.monotonic() < deadline:
                        person = ids.randrange(persons)
                        if write:
                            await session.execute_write(write_person_async, person)
                        else:
                            await session.execute_read(read_person_async, person)
                        done += 1
                return done

            return sum(await asyncio.gather(*(worker(n) for n in range(concurrency))))

        await phase(1000, warmup)
        cpu_start, wall = cpu_us(), time.perf_counter()
        units = await phase(2000, count)
        report(units, time.perf_counter() - wall, cpu_start)
    sys.exit(f"unknown workload {workload}")


def main():
    flavour, workload = sys.argv[1], sys.argv[2]
    count, warmup, concurrency, persons = (int(v) for v in sys.argv[3:7])
    if flavour == "sync":
        run_sync(workload, count, warmup, concurrency, persons)
    elif flavour == "async":
        asyncio.run(run_async(workload, count, warmup, concurrency, persons))
    else:
        sys.exit(f"unknown flavour {flavour}: sync or async")


if __name__ == "__main__":
    main()
