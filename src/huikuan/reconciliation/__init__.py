"""Reconciliation (对账) and cash application: customer statements sent and confirmed, bank
statements imported and their lines matched to open invoices."""
