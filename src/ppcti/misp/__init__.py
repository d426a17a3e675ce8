"""MISP: a run's CTI as MISP events and feeds, the misp-modules lookup module, the misp-stix check.

``export`` builds a ``pymisp.MISPEvent`` from the aggregate STIX bundle; ``feed`` writes MISP feed
folders (with MISP's MD5 hashes or a keyed variant); ``convert`` runs the official misp-stix converter
on the same bundle and compares; ``modules/`` holds the misp-modules expansion module. PyMISP and
misp-stix are the ``misp`` extra: nothing here imports them until a command runs.
"""
