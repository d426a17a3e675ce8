"""The HTTP API of ppcti (FastAPI): accounts, uploads and their jobs, and each capability's results.

``create_app(settings)`` in :mod:`ppcti.api.app` builds the application; ``ppcti serve`` runs it. This
package needs the ``web`` extra; importing it without that extra fails on FastAPI, which ``ppcti serve``
turns into a clear message.
"""
