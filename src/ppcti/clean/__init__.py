"""ppcti.clean"""
