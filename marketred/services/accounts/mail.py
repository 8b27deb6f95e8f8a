"""Account mail (verification, password reset, lockout, deactivation) through the
notification SMTP path.

Sending happens after the caller committed; a failure is logged, not raised, because the
person can always ask for the mail again and the request itself succeeded.
"""

from __future__ import annotations

from marketred.integrations.mail import Mailer, OutgoingMail
from marketred.logs import get_logger
from marketred.settings import Settings

log = get_logger(__name__)


def _url(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


def _hello(to: str, subject: str, body: str) -> OutgoingMail:
    """An account mail: a greeting, then `body`."""
    return OutgoingMail(to=to, subject=subject, text=f"Hola,\n\n{body}")


def verification_mail(settings: Settings, to: str, token: str) -> OutgoingMail:
    link = _url(settings, f"/verificar-email/{token}")
    return _hello(
        to,
        "Confirma tu correo en MarketRed",
        "Para confirmar tu correo en MarketRed abre este enlace "
        f"(vale 48 horas):\n\n{link}\n\nSi no creaste una cuenta, ignora este mensaje.\n",
    )


def reset_mail(settings: Settings, to: str, token: str) -> OutgoingMail:
    link = _url(settings, f"/recuperar/{token}")
    return _hello(
        to,
        "Restablece tu contraseña de MarketRed",
        "Pediste restablecer tu contraseña. Abre este enlace (vale 30 minutos, "
        f"un solo uso):\n\n{link}\n\nSi no fuiste tú, ignora este mensaje: tu "
        "contraseña sigue igual.\n",
    )


def lockout_mail(settings: Settings, to: str, minutes: int) -> OutgoingMail:
    return _hello(
        to,
        "Bloqueamos temporalmente el ingreso a tu cuenta de MarketRed",
        "Hubo varios intentos fallidos de ingresar a tu cuenta, así que "
        f"bloqueamos el ingreso con contraseña durante {minutes} minutos.\n\n"
        "Si no fuiste tú, te recomendamos restablecer tu contraseña: "
        f"{_url(settings, '/recuperar')}\n",
    )


def deactivated_mail(settings: Settings, to: str) -> OutgoingMail:
    return _hello(
        to,
        "Desactivamos tu cuenta de MarketRed",
        "Nuestro equipo de operación desactivó tu cuenta de MarketRed: ya no "
        "puedes ingresar y tus sesiones y tokens de API dejaron de funcionar. Tus "
        "cotizaciones en curso siguen su curso.\n\nSi crees que es un error, responde "
        f"a este correo o escríbenos desde {_url(settings, '/')}.\n",
    )


def reactivated_mail(settings: Settings, to: str) -> OutgoingMail:
    return _hello(
        to,
        "Reactivamos tu cuenta de MarketRed",
        f"Tu cuenta de MarketRed está activa de nuevo. Ingresa en {_url(settings, '/ingresar')}.\n",
    )


async def send(settings: Settings, mail: OutgoingMail) -> bool:
    try:
        await Mailer(settings.smtp_url, settings.mail_from).send(mail)
    except Exception as exc:  # SMTP down must not turn a done request into an error
        log.warning("account mail not sent", subject=mail.subject, error=type(exc).__name__)
        return False
    return True
