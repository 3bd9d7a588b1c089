"""Users, roles and password hashing."""
