"""Email over SMTP (smtplib): one message per recipient, bodies from Jinja2 text templates."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any

import jinja2

from adapters.outbox import Message, Outgoing

__all__ = ["MailTemplates", "SmtpSender", "digest_message"]


class MailTemplates:
    """Text templates in a directory: `<name>.txt`, rendered with the message's context.

    Undefined variables are errors, so a template and the code that fills it cannot drift
    apart unnoticed.
    """

    def __init__(self, directory: Path, base_url: str = "") -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory)),
            autoescape=False,  # noqa: S701 - plain text mail, never HTML
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Where Peerloop is reached, so that a link in a message can be followed.
        self.env.globals["base_url"] = base_url.rstrip("/")

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(f"{name}.txt").render(**context)


class SmtpSender:
    """Sends a batch of email over one SMTP connection (a `Sender` for the outbox).

    Args:
        host, port: the mail server.
        mail_from: the From address.
        templates: the text templates.
        timeout: seconds to wait for the server.
        starttls: upgrade the connection with STARTTLS before sending.
        username, password: log in when given.
    """

    def __init__(
        self,
        host: str,
        port: int,
        mail_from: str,
        templates: MailTemplates,
        *,
        timeout: float = 10.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.mail_from = mail_from
        self.templates = templates
        self.timeout = timeout
        self.starttls = starttls
        self.username = username
        self.password = password

    def compose(self, item: Outgoing) -> EmailMessage:
        body = item.body
        msg = EmailMessage()
        msg["From"] = self.mail_from
        name = str(body.get("name") or "")
        msg["To"] = formataddr((name, item.recipient)) if name else item.recipient
        msg["Subject"] = item.subject
        # The same Message-ID for every attempt at one outbox row: a resend after a lost
        # acknowledgement can be recognised as the same message by the receiving side.
        domain = self.mail_from.rpartition("@")[2].strip(" >") or "peerloop.local"
        msg["Message-ID"] = item.message_id(domain)
        msg.set_content(self.templates.render(str(body["template"]), body.get("context", {})))
        return msg

    def __call__(self, batch: Sequence[Outgoing]) -> list[Exception | None]:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as exc:
            return [exc] * len(batch)
        out: list[Exception | None] = []
        try:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            for item in batch:
                try:
                    smtp.send_message(self.compose(item))
                    out.append(None)
                except smtplib.SMTPRecipientsRefused as exc:
                    out.append(exc)  # this recipient only; carry on with the rest
                except (smtplib.SMTPException, OSError, jinja2.TemplateError) as exc:
                    out.append(exc)
                    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
                        lost = ConnectionError(f"connection lost before sending: {exc}")
                        out.extend([lost] * (len(batch) - len(out)))
                        break
        except (smtplib.SMTPException, OSError) as exc:
            out.extend([exc] * (len(batch) - len(out)))
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return out


def digest_message(recipient: str, items: list[Mapping[str, Any]], day: str) -> Message:
    """The daily digest for one recipient, from the bodies of their held messages."""
    name = next((str(i.get("name")) for i in items if i.get("name")), "")
    entries = [
        {
            "subject": str(i.get("subject", "")),
            "template": i.get("template"),
            **i.get("context", {}),
        }
        for i in items
    ]
    return Message(
        channel="email",
        recipient=recipient,
        subject=f"Peerloop: your digest for {day} ({len(items)} item{'s' * (len(items) != 1)})",
        body={"template": "digest", "name": name, "context": {"name": name, "items": entries}},
        dedupe_key=f"digest:{day}:{recipient}",  # replaced by fold_digests
    )
