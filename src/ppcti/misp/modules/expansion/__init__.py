"""Expansion modules (misp-modules skips this file: it loads every other ``*.py`` here)."""
