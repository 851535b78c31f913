"""The service's PostgreSQL backend: Django's own, with dates and times read by psycopg's compiled loader
(`base.py`)."""
