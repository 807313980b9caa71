"""Storage: SQLModel tables, the database engine and the unit of work."""
