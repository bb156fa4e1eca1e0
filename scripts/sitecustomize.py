"""Start-up hook of the reference Glance (on its PYTHONPATH only).

Glance runs image tasks in threads beside the request being served.  On
sqlite, oslo.db opens every transaction with a deferred ``BEGIN``; a
request that reads and then writes (deleting an image, for one) fails at
once with "database is locked" (500) when a task thread committed in
between, whatever the busy timeout.  Opening each transaction with
``BEGIN IMMEDIATE`` takes the write lock first, so the two wait for each
other (up to the connection's ``timeout``) instead of failing.  This only
orders transactions; no answer of Glance changes.
"""

try:
    import sqlalchemy
    import sqlalchemy.engine
except ImportError:  # not the Glance virtualenv
    sqlalchemy = None

if sqlalchemy is not None:
    @sqlalchemy.event.listens_for(sqlalchemy.engine.Engine,
                                  "before_cursor_execute", retval=True)
    def _begin_immediate(conn, cursor, statement, parameters, context,
                         executemany):
        if conn.dialect.name == "sqlite" and statement.strip() == "BEGIN":
            statement = "BEGIN IMMEDIATE"
        return statement, parameters
