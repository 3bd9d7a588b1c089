"""Pilot platforms (中试平台): registry, suggestions and bookings."""
