"""Sending the recorded deliveries, at most once each.

Each delivery is claimed (``sending``, attempt counted) and committed *before* it leaves, and
its outcome is committed after. So a crash between the two leaves it ``sending``; the next
sending pass marks it ``uncertain`` for a person to check rather than sending it again (a
customer who receives the same demand twice loses trust in the rest). A transient failure
(connection refused, SMTP 4xx, HTTP 5xx) is retried later with the same ``message_id``, with
growing waits, up to :data:`MAX_ATTEMPTS`; a bounce or a final refusal is recorded as such.

A channel that is not configured (no SMTP host, no SMS gateway) leaves its deliveries pending,
so they go out once it is.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from huikuan.channels.alerts import RobotSettings, send_alert
from huikuan.channels.email import Attachment, OutgoingEmail, SmtpSettings, send_email
from huikuan.channels.outcome import SendOutcome
from huikuan.channels.sms import SmsGatewaySettings, send_sms
from huikuan.collections.models import CollectionAction, Delivery, Document
from huikuan.core.db import unit_of_work

MAX_ATTEMPTS = 5
BATCH = 200


@dataclass(frozen=True, slots=True)
class Transports:
    smtp: SmtpSettings | None = None
    sms: SmsGatewaySettings | None = None
    robot: RobotSettings | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Transports:
        env = os.environ if environ is None else environ
        return cls(
            smtp=SmtpSettings.from_env(env),
            sms=SmsGatewaySettings.from_env(env),
            robot=RobotSettings.from_env(env),
        )

    def configured(self, channel: str) -> bool:
        return {"email": self.smtp, "sms": self.sms, "alert": self.robot}.get(channel) is not None


def retry_wait(attempts: int) -> dt.timedelta:
    """5, 15, 45, 135 minutes after the 1st, 2nd, 3rd, 4th failed attempt."""
    return dt.timedelta(minutes=5 * 3 ** max(attempts - 1, 0))


def send_due(
    factory: sessionmaker[Session],
    *,
    company_id: int,
    now: dt.datetime,
    transports: Transports | None = None,
) -> dict[str, int]:
    """Send every delivery whose time has come; returns counts by resulting status."""
    transports = transports if transports is not None else Transports.from_env()
    counts: dict[str, int] = {}
    with unit_of_work(factory) as session:
        counts["uncertain"] = _mark_interrupted(session, company_id)
    after_id = 0
    while True:
        with unit_of_work(factory) as session:
            ids = _due_ids(session, company_id, now, after_id, transports)
        if not ids:
            break
        for delivery_id in ids:
            status = _send_one(factory, delivery_id, now, transports)
            if status:
                counts[status] = counts.get(status, 0) + 1
        after_id = ids[-1]
    pending = _not_configured(factory, company_id, transports)
    if pending:
        counts["not_configured"] = pending
    return {k: v for k, v in counts.items() if v}


def _mark_interrupted(session: Session, company_id: int) -> int:
    result = session.execute(
        update(Delivery)
        .where(Delivery.company_id == company_id, Delivery.status == "sending")
        .values(
            status="uncertain",
            last_error="发送中断，无法确认是否送达，请人工核实 / interrupted while sending: check by hand",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _due_ids(
    session: Session, company_id: int, now: dt.datetime, after_id: int, transports: Transports
) -> list[int]:
    channels = [c for c in ("email", "sms", "alert") if transports.configured(c)]
    return list(
        session.scalars(
            select(Delivery.id)
            .where(
                Delivery.company_id == company_id,
                Delivery.status.in_(("pending", "retry")),
                Delivery.send_after <= now.replace(tzinfo=None),
                Delivery.channel.in_(channels),
                Delivery.id > after_id,
            )
            .order_by(Delivery.id)
            .limit(BATCH)
        )
    )


def _send_one(
    factory: sessionmaker[Session], delivery_id: int, now: dt.datetime, transports: Transports
) -> str | None:
    with unit_of_work(factory) as session:
        delivery = session.scalar(
            select(Delivery).where(Delivery.id == delivery_id).with_for_update()
        )
        if delivery is None or delivery.status not in ("pending", "retry"):
            return None  # another sender took it
        delivery.status, delivery.attempts = "sending", delivery.attempts + 1
        session.flush()
        message = _message(session, delivery)
    outcome = _transmit(message, transports, now)
    with unit_of_work(factory) as session:
        delivery = session.get_one(Delivery, delivery_id)
        _record_outcome(session, delivery, outcome, now)
        return delivery.status


@dataclass(frozen=True, slots=True)
class _Message:
    channel: str
    recipient: str
    subject: str
    body: str
    html: str
    attachments: tuple[Attachment, ...]
    message_id: str


def _message(session: Session, delivery: Delivery) -> _Message:
    ids = [int(i) for i in delivery.attachments.split("|") if i]
    documents = session.scalars(select(Document).where(Document.id.in_(ids))).all() if ids else []
    return _Message(
        channel=delivery.channel,
        recipient=delivery.recipient,
        subject=delivery.subject,
        body=delivery.body,
        html=delivery.html,
        attachments=tuple(Attachment(d.filename, d.content, d.mime_type) for d in documents),
        message_id=delivery.message_id,
    )


def _transmit(message: _Message, transports: Transports, now: dt.datetime) -> SendOutcome:
    if message.channel == "email" and transports.smtp is not None:
        email = OutgoingEmail(
            to=(message.recipient,),
            subject=message.subject,
            text=message.body,
            html=message.html or None,
            attachments=message.attachments,
            message_id=message.message_id,
        )
        return send_email(transports.smtp, email)
    if message.channel == "sms" and transports.sms is not None:
        return send_sms(
            transports.sms,
            phone=message.recipient,
            text=message.body,
            message_id=message.message_id,
        )
    if message.channel == "alert" and transports.robot is not None:
        return send_alert(transports.robot, text=message.body, now=now)
    raise AssertionError(f"no transport for {message.channel}")  # _due_ids selects configured ones


def _record_outcome(
    session: Session, delivery: Delivery, outcome: SendOutcome, now: dt.datetime
) -> None:
    moment = now.replace(tzinfo=None)
    delivery.provider_id = outcome.provider_id[:200]
    if outcome.ok:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", moment, ""
        return
    delivery.last_error = outcome.detail[:1000]
    if outcome.transient and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = "retry"
        delivery.send_after = moment + retry_wait(delivery.attempts)
        return
    delivery.status = outcome.status  # bounced or failed
    if delivery.action_id is None:
        return
    action = session.get_one(CollectionAction, delivery.action_id)
    if action.channel in ("email", "sms"):
        action.status = delivery.status
        action.detail = f"{delivery.recipient}: {outcome.detail}"[:1000]


def _not_configured(factory: sessionmaker[Session], company_id: int, transports: Transports) -> int:
    missing = [c for c in ("email", "sms", "alert") if not transports.configured(c)]
    if not missing:
        return 0
    with unit_of_work(factory) as session:
        from sqlalchemy import func

        return int(
            session.scalar(
                select(func.count()).where(
                    Delivery.company_id == company_id,
                    Delivery.status.in_(("pending", "retry")),
                    Delivery.channel.in_(missing),
                )
            )
            or 0
        )
