"""Field rules shared by the public forms."""
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from .spreadsheet import looks_like_formula

# Anything a mail client or a reader could take for a link: a scheme, "www",
# or a dotted domain of any top-level name (full-width and ideographic full
# stops included), so that a name typed by a stranger can never carry a link
# into someone's inbox. Initials ("J. R. R.", "J.R.R.") stay allowed.
_DOT = "[.\u3002\uff0e\uff61]"
# A scheme is at most 32 characters here: unbounded, "[a-z][a-z0-9+.-]*:/"
# would rescan the rest of the text from every letter, and a one-megabyte
# name took hours to refuse (the dotted domain rule still sees the address
# behind a longer one).
_SCHEME = r"[a-z][a-z0-9+.-]{0,31}:/|\b(?:mailto|javascript|data|tel|sms|file):"
_URL = re.compile(rf"({_SCHEME}|\bwww\b|[^\W_]{_DOT}[^\W\d_]{{2,}})", re.I)
# Organisations may be named like their domain ("Booking.com"); links are still refused.
_LINK = re.compile(rf"({_SCHEME}|\bwww\.)", re.I)


def looks_like_link(value: str) -> bool:
    """Whether ``value`` holds a URL-like token (see _URL)."""
    return bool(_URL.search(unicodedata.normalize("NFKC", value or "")))


def strip(value):
    return value.strip() if isinstance(value, str) else value


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value)


# Every field checked by PlainName refuses values longer than this by its
# own length rule.
_LONGER_THAN_ANY_NAME = 1000


class PlainName:
    """A person's or organisation's name: no links, no formulas, no control characters."""

    def __init__(self, label: str, allow_domain_names: bool = False):
        self.label = label
        self.pattern = _LINK if allow_domain_names else _URL

    def __call__(self, form, field):
        value = field.data or ""
        if len(value) > _LONGER_THAN_ANY_NAME:
            return  # refused by the field's length rule; not worth scanning a megabyte
        if has_control_characters(value):
            raise ValidationError(_l("%(label)s contains characters we cannot accept", label=self.label))
        if self.pattern.search(unicodedata.normalize("NFKC", value)):
            raise ValidationError(_l("%(label)s must not contain a web address", label=self.label))
        if looks_like_formula(value):
            raise ValidationError(
                _l("%(label)s must not start with =, +, - or @", label=self.label)
            )


class EmailAddress:
    """A syntactically valid address (and a deliverable domain when
    EMAIL_CHECK_DELIVERABILITY is on, with a short DNS timeout)."""

    def __call__(self, form, field):
        value = field.data or ""
        if has_control_characters(value) or len(value) > 254:
            raise ValidationError(_l("Enter an email address in the correct format, like name@example.com"))
        config = current_app.config
        try:
            result = validate_email(
                value,
                check_deliverability=config["EMAIL_CHECK_DELIVERABILITY"],
                # Non-ASCII local parts need SMTPUTF8, which many mail servers
                # lack; internationalised domains are fine (sent as punycode).
                allow_smtputf8=False,
                timeout=config["EMAIL_DNS_TIMEOUT"],
            )
        except EmailNotValidError as exc:
            if "does not exist" in str(exc) or "not accept email" in str(exc) or "DNS" in str(exc):
                raise ValidationError(_l("The domain of this email address does not receive email")) from exc
            raise ValidationError(
                _l("Enter an email address in the correct format, like name@example.com")
            ) from exc
        field.data = result.ascii_email or result.normalized
