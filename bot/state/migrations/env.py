"""Alembic environment: migrations run on the connection :func:`paperbot.bot.state.migrate.migrate` passes in.

That connection is already inside a transaction holding the migration lock, so the upgrade is
one transaction where the database allows (PostgreSQL) and never runs twice at once.
"""

from alembic import context

from paperbot.bot.state.schema import metadata  # loaded by Alembic from its file path, so not relative

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("paperbot's migrations run through `paperbot migrate` (or on start), not the alembic CLI")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
