"""Alembic environment: runs on the connection ``ledger.migrate`` hands it.

Migrations are the only source of the book's schema. They are run by ``sansam init``
(through ``ledger.migrate``), never by hand-made SQL.
"""

from alembic import context

from ledger.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `sansam init` (ledger.migrate), not bare alembic.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode recreates tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
