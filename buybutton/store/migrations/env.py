"""Alembic environment: runs on the connection :meth:`buybutton.store.Store.upgrade` hands it."""

from alembic import context

from buybutton.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
