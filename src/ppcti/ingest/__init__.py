"""ppcti.ingest"""
