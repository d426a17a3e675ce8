"""ppcti.formats"""
