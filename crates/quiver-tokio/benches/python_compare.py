"""The official Python driver on the same workload as benches/throughput.rs (pip install neo4j)."""
import os
import resource
import time

import neo4j

URI = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
AUTH = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "quiver-test-password"))
QUERIES = int(os.environ.get("QUIVER_BENCH_QUERIES", "5000"))
STREAM = "UNWIND range(1, 200000) AS i RETURN i, 'name-' + toString(i) AS s, [i, i] AS l"

with neo4j.GraphDatabase.driver(URI, auth=AUTH) as driver:
    with driver.session() as session:
        for _ in range(500):
            session.run("RETURN 1").consume()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(QUERIES):
            list(session.run("RETURN 1"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"python   RETURN 1 lock-step: {QUERIES / wall:8.0f} q/s, client CPU {cpu * 1e6 / QUERIES:6.1f} µs/query ({QUERIES} queries)")
        for _ in range(2):
            wall, cpu = time.perf_counter(), time.process_time()
            rows = 0
            for record in session.run(STREAM):
                rows += 1
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"python   200k-row stream:    {rows / wall:8.0f} rows/s, client CPU {cpu * 1e6 / rows:6.2f} µs/row")
print(f"python   memory: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} kB")
