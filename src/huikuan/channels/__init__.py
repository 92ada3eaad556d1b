"""Channels: how Huikuan reaches people (email over SMTP, SMS through an HTTP gateway, group
robots for internal alerts) and the documents it sends (PDF letters, statements of open items,
message templates)."""
