"""Huikuan (回款): accounts-receivable credit and collections."""

__version__ = "0.1.0"
