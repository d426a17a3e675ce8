"""misp-modules modules of ppcti: pass this folder to ``misp-modules -c`` (``ppcti misp modules-path``).

The modules run inside the misp-modules server's own environment, so they use the standard library only
and reach ppcti through its command line.
"""
