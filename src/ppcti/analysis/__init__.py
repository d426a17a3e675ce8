"""ppcti.analysis"""
