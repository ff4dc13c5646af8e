"""Storage: SQLAlchemy models, the database engine and session, Alembic migrations."""
