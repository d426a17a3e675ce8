"""TAXII 2.1 publishing."""
