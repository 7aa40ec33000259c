"""The fault suite: the whole system under a steady load while a service, the broker or the
database is killed (SIGKILL) and restarted; then every accepted disclosure must be screened and
every alert it warrants delivered exactly once. ``make chaos`` runs it (``python -m
tests.chaos``); ``test_chaos.py`` is its bounded version in ``make test``.
"""
