"""ppcti.kg"""
