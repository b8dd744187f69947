"""Storage: the SQLite archive (schema, migrations, and the Store that is its only writer)."""

from crawler.storage.store import Store, StoreError, WriteResult

__all__ = ["Store", "StoreError", "WriteResult"]
