"""ppcti.pii"""
