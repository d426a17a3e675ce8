"""ppcti.fhe"""
