"""TAXII 2.1: publish a run's aggregate STIX bundle to a collection of a TAXII server.

The client side only (taxii2-client, the ``taxii`` extra); any TAXII 2.1 server that accepts writes can
receive it. Credentials come from the environment (``PPCTI_TAXII_USER``, ``PPCTI_TAXII_PASSWORD``) and
are read by the command line, never by this package.
"""
