"""``python -m huikuan`` runs the ``huikuan`` command."""

from huikuan.cli import app

app()
