"""The actor that test set-up code records in the audit trail."""

import datetime as dt

from huikuan.core.audit import Actor

ACTOR = Actor(name="test", source="pytest", at=dt.datetime(2026, 1, 2, 9, 30))
