"""SQLAlchemy 2 Core tables and queries, Alembic migrations; SQLite (WAL) or PostgreSQL."""
