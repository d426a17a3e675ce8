"""ppcti.stix"""
