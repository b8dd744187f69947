"""Distributed crawling on scrapy-redis: workers share a Redis frontier, one writer ingests.

    newsmirror crawl SITE --redis URL --workers N   # N workers here; run it on more machines
    newsmirror ingest --redis URL --db PATH         # the one writer (or give crawl --db too)

`keys` names everything a crawl keeps in Redis, `serializer` and `codec` turn requests and
items into JSON (never pickle: a Redis shared by a fleet must not be able to run code in
it), `queue` is the frontier that survives a killed worker, `worker` holds the Scrapy
components a worker adds, `writer` drains items into SQLite through the Ingestor, and
`fleet` starts workers and tells when a crawl is done.
"""
