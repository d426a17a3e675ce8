"""ppcti.bus"""
