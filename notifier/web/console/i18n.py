"""Every word the console shows, in French and English, and how numbers and times read.

One catalogue: each entry holds its French (Québec) and English (Canada) text. A missing
key fails loudly in tests rather than showing a raw key to an operator. Values in braces
are filled with :meth:`str.format`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from notifier.domain import Lang

LANGS = (Lang.FR, Lang.EN)
_LOCALES = {Lang.FR: "fr_CA", Lang.EN: "en_CA"}

# key: (French, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    # Frame.
    "console": ("Console des opérations", "Operations console"),
    "skip_to_content": ("Aller au contenu", "Skip to content"),
    "nav.overview": ("Vue d’ensemble", "Overview"),
    "nav.story": ("Rendez-vous", "Appointments"),
    "nav.dead_letters": ("Messages abandonnés", "Dead letters"),
    "nav.opt_outs": ("Désabonnements", "Opt-outs"),
    "switch_language": ("English", "Français"),
    "switch_language.label": ("Switch to English", "Passer au français"),
    "signed_in_as": ("{name} ({role})", "{name} ({role})"),
    "role.viewer": ("lecture seule", "viewer"),
    "role.admin": ("administrateur", "admin"),
    "scope.all": ("toutes les cliniques", "every clinic"),
    "scope.one": ("clinique {location}", "clinic {location}"),
    "sign_out": ("Se déconnecter", "Sign out"),
    "masked_note": (
        "Les numéros, courriels et noms sont toujours masqués.",
        "Phone numbers, emails and names are always masked.",
    ),
    # Sign-in.
    "sign_in.title": ("Connexion", "Sign in"),
    "sign_in.name": ("Nom d’utilisateur", "User name"),
    "sign_in.password": ("Mot de passe", "Password"),
    "sign_in.submit": ("Se connecter", "Sign in"),
    "sign_in.wrong": (
        "Nom d’utilisateur ou mot de passe incorrect.",
        "Wrong user name or password.",
    ),
    "sign_in.throttled": (
        "Trop de tentatives manquées. Réessayez dans {seconds} s.",
        "Too many failed attempts. Try again in {seconds} s.",
    ),
    "sign_in.disabled": (
        "Aucun opérateur n’est configuré (NOTIFIER_OPERATORS) : la console est fermée.",
        "No operators are configured (NOTIFIER_OPERATORS): the console is closed.",
    ),
    "sign_in.expired": (
        "Votre session a expiré. Reconnectez-vous.",
        "Your session has expired. Please sign in again.",
    ),
    # Errors.
    "error.forbidden.title": ("Accès refusé", "Access denied"),
    "error.forbidden": (
        "Votre rôle ne permet pas cette page ou cette action.",
        "Your role does not allow this page or action.",
    ),
    "error.csrf.title": ("Formulaire expiré", "Form expired"),
    "error.csrf": (
        "Ce formulaire a expiré ou ne vient pas de la console. Rechargez la page et "
        "recommencez.",
        "This form has expired or did not come from the console. Reload the page and try "
        "again.",
    ),
    "error.not_found.title": ("Introuvable", "Not found"),
    "error.not_found": (
        "Aucun rendez-vous avec ce numéro de référence dans ce que vous pouvez voir.",
        "No appointment with this reference number among those you can see.",
    ),
    "error.back": ("Retour à la vue d’ensemble", "Back to the overview"),
    # Overview.
    "overview.title": ("Vue d’ensemble", "Overview"),
    "overview.updated": ("Mis à jour le {when}", "Updated {when}"),
    "overview.health.ok": ("Tout va bien", "All good"),
    "overview.health.attention": ("À surveiller", "Needs attention"),
    "overview.health.problem": ("Problème", "Problem"),
    "queues.title": ("Files d’attente", "Queues"),
    "queues.queue": ("File", "Queue"),
    "queues.ready": ("Prêts", "Ready"),
    "queues.in_progress": ("En cours", "In progress"),
    "queues.delayed": ("Nouvelles tentatives différées", "Delayed retries"),
    "queues.dead": ("Abandonnés", "Dead letters"),
    "queues.workers": ("Workers actifs", "Live workers"),
    "queues.scheduler": ("Dernier passage du planificateur", "Scheduler’s last run"),
    "queues.scheduler.never": ("jamais vu", "never seen"),
    "queues.scheduler.ago": ("il y a {seconds} s", "{seconds} s ago"),
    "queues.schedule_size": ("Messages planifiés", "Scheduled messages"),
    "ahead.title": ("À venir", "Coming up"),
    "ahead.hours": ("Prochaines 24 heures, par heure", "Next 24 hours, by hour"),
    "ahead.days": ("Prochains 7 jours, par jour", "Next 7 days, by day"),
    "ahead.total": ("{count} messages à envoyer", "{count} messages due"),
    "deliveries.title": ("Envois", "Deliveries"),
    "deliveries.period": ("Période", "Period"),
    "deliveries.read_at": (
        "Comptes lus le {when} (relus toutes les 30 secondes au plus).",
        "Counts read {when} (read again every 30 seconds at most).",
    ),
    "period.hour": ("Dernière heure", "Last hour"),
    "period.day": ("Dernières 24 heures", "Last 24 hours"),
    "period.week": ("7 derniers jours", "Last 7 days"),
    "deliveries.rate": ("Taux de livraison", "Delivery rate"),
    "deliveries.finished.label": ("Envois terminés", "Finished deliveries"),
    "deliveries.rate.none": ("aucun envoi terminé", "no finished delivery"),
    "deliveries.rate.help": (
        "Livrés ou envoyés, sur tous les envois terminés (hors messages retenus).",
        "Delivered or sent, out of every finished delivery (held-back messages excluded).",
    ),
    "deliveries.by.status": ("Par statut", "By status"),
    "deliveries.by.channel": ("Par mode", "By channel"),
    "deliveries.by.kind": ("Par type de message", "By message kind"),
    "deliveries.by.lang": ("Par langue", "By language"),
    "deliveries.by.location": ("Par clinique", "By clinic"),
    "deliveries.count": ("Nombre", "Count"),
    "deliveries.none": ("Aucun envoi pendant cette période.", "No deliveries in this period."),
    "deliveries.over_time": ("Envois dans le temps", "Deliveries over time"),
    "failures.title": ("Échecs et raisons", "Failures and their reasons"),
    "failures.none": ("Aucun échec pendant cette période.", "No failures in this period."),
    "failures.reason": ("Raison", "Reason"),
    "failures.count": ("Nombre", "Count"),
    "chart.empty": ("Rien à afficher.", "Nothing to show."),
    "chart.summary": ("{label} : {count}", "{label}: {count}"),
    # Values.
    "status.submitting": ("en cours d’envoi", "submitting"),
    "status.retrying": ("nouvel essai prévu", "retrying"),
    "status.accepted": ("accepté par le fournisseur", "accepted by the provider"),
    "status.sent": ("envoyé", "sent"),
    "status.delivered": ("livré", "delivered"),
    "status.undelivered": ("non livré", "undelivered"),
    "status.failed": ("échec", "failed"),
    "status.suppressed": ("retenu", "held back"),
    "channel.email": ("courriel", "email"),
    "channel.sms": ("texto", "SMS"),
    "channel.voice": ("appel vocal", "voice call"),
    "kind.confirmation": ("confirmation", "confirmation"),
    "kind.modification": ("modification", "modification"),
    "kind.cancellation": ("annulation", "cancellation"),
    "kind.reminder": ("rappel", "reminder"),
    "kind.contact_change": ("coordonnées modifiées", "contact details changed"),
    "kind.no_show": ("absence", "no-show"),
    "lang.fr": ("français", "French"),
    "lang.en": ("anglais", "English"),
    "unknown": ("(inconnu)", "(unknown)"),
    # Story.
    "story.title": ("Historique d’un rendez-vous", "An appointment’s story"),
    "story.reference": ("Numéro de référence (10 chiffres)", "Reference number (10 digits)"),
    "story.search": ("Chercher", "Search"),
    "story.bad_reference": (
        "Un numéro de référence compte exactement 10 chiffres.",
        "A reference number has exactly 10 digits.",
    ),
    "story.appointment": ("Rendez-vous {reference}", "Appointment {reference}"),
    "story.patient": ("Patient", "Patient"),
    "story.start": ("Début", "Start"),
    "story.clinic": ("Clinique", "Clinic"),
    "story.status": ("État", "Status"),
    "story.version": ("Version", "Version"),
    "story.modes": ("Modes", "Modes"),
    "story.contacts": ("Coordonnées", "Contact details"),
    "story.timeline": ("Chronologie", "Timeline"),
    "story.when": ("Quand", "When"),
    "story.what": ("Quoi", "What"),
    "story.details": ("Détails", "Details"),
    "story.pending": ("Messages planifiés", "Planned messages"),
    "story.pending.none": ("Aucun message en attente.", "No message waiting."),
    "story.due": ("Prévu le", "Due"),
    "story.deliveries": ("Envois", "Deliveries"),
    "story.empty": ("Rien d’enregistré pour ce rendez-vous.", "Nothing recorded for it."),
    "story.attempts": ("Tentatives : {count}", "Attempts: {count}"),
    "story.key": ("Clé d’envoi", "Send key"),
    "story.lang": ("Langue", "Language"),
    "what.event": ("Événement reçu", "Event received"),
    "what.sent": ("Remis au fournisseur", "Handed to the provider"),
    "what.suppressed": ("Retenu", "Held back"),
    "what.failed": ("Échec", "Failed"),
    "what.pending": ("Planifié", "Planned"),
    "what.delivery": ("Suivi de l’envoi", "Delivery record"),
    "what.version_reset": ("Version corrigée par un opérateur", "Version reset by an operator"),
    "story.by": ("Par {actor}", "By {actor}"),
    "event.appointment.booked": ("rendez-vous pris", "appointment booked"),
    "event.appointment.modified": ("rendez-vous modifié", "appointment changed"),
    "event.appointment.contact_changed": ("coordonnées modifiées", "contact details changed"),
    "event.appointment.cancelled": ("rendez-vous annulé", "appointment cancelled"),
    "event.appointment.attendance_changed": ("présence indiquée", "attendance set"),
    "intake.accepted": ("accepté", "accepted"),
    "intake.ignored": ("ignoré", "ignored"),
    "appointment.booked": ("réservé", "booked"),
    "appointment.cancelled": ("annulé", "cancelled"),
    # Dead letters.
    "dead.title": ("Messages abandonnés", "Dead letters"),
    "dead.help": (
        "Messages qui ont épuisé leurs nouvelles tentatives. Remettez-les en file une fois "
        "la cause réglée, ou supprimez-les.",
        "Messages that used up their retries. Requeue them once the cause is fixed, or "
        "discard them.",
    ),
    "dead.none": ("Aucun message abandonné.", "No dead letters."),
    "dead.queue": ("File", "Queue"),
    "dead.actor": ("Tâche", "Task"),
    "dead.failed_at": ("Abandonné le", "Failed"),
    "dead.message": ("Message", "Message"),
    "dead.error": ("Dernière erreur", "Last error"),
    "dead.inspect": ("Voir le détail", "Inspect"),
    "dead.reason": ("Raison (gardée au journal)", "Reason (kept in the audit)"),
    "dead.requeue": ("Remettre en file", "Requeue"),
    "dead.requeue_all": ("Tout remettre en file", "Requeue all"),
    "dead.discard": ("Supprimer", "Discard"),
    "dead.confirm_discard": (
        "Supprimer ce message pour de bon?", "Discard this message for good?"
    ),
    "dead.requeued": ("{count} message(s) remis en file.", "{count} message(s) requeued."),
    "dead.discarded": ("Message supprimé.", "Message discarded."),
    "dead.gone": (
        "Ce message n’est plus dans les abandonnés (déjà traité?).",
        "That message is no longer a dead letter (already handled?).",
    ),
    "dead.viewer_note": (
        "Seul un administrateur peut remettre en file ou supprimer.",
        "Only an admin can requeue or discard.",
    ),
    "dead.actions": ("Actions des opérateurs", "Operators’ actions"),
    "dead.actions.none": ("Aucune action enregistrée.", "No action recorded."),
    "dead.action.who": ("Qui", "Who"),
    "dead.action.what": ("Action", "Action"),
    "action.requeue": ("remis en file", "requeued"),
    "action.requeue_all": ("tout remis en file", "requeued all"),
    "action.discard": ("supprimé", "discarded"),
    "action.reset_version": ("version corrigée", "version reset"),
    # Opt-outs.
    "optouts.title": ("Désabonnements", "Opt-outs"),
    "optouts.counts": ("Numéros désabonnés en ce moment", "Numbers opted out now"),
    "optouts.audit": ("Changements enregistrés", "Changes recorded"),
    "optouts.lookup": ("Vérifier un numéro", "Look up a number"),
    "optouts.number": (
        "Numéro complet (p. ex. +15145550123)", "Full number (e.g. +15145550123)"
    ),
    "optouts.lookup.submit": ("Vérifier", "Look up"),
    "optouts.lookup.help": (
        "Le numéro n’est jamais affiché en clair ni conservé dans l’adresse de la page.",
        "The number is never shown in clear nor kept in the page address.",
    ),
    "optouts.invalid": (
        "Ce n’est pas un numéro de téléphone en format international (+1…).",
        "That is not a phone number in international form (+1…).",
    ),
    "optouts.expired": (
        "Cette recherche a expiré : entrez le numéro de nouveau.",
        "This lookup has expired: enter the number again.",
    ),
    "optouts.result": ("État de {number}", "State of {number}"),
    "optouts.channel": ("Mode", "Channel"),
    "optouts.state": ("État", "State"),
    "optouts.since": ("Depuis", "Since"),
    "optouts.source": ("Origine", "Source"),
    "optouts.state.out": ("désabonné", "opted out"),
    "optouts.state.in": ("abonné", "opted in"),
    "optouts.state.never": ("jamais changé (abonné)", "never changed (opted in)"),
    "source.sms-keyword": ("mot-clé texto", "SMS keyword"),
    "source.twilio-21610": ("refus signalé par Twilio (21610)", "blocked, per Twilio (21610)"),
    "source.operator": ("opérateur", "operator"),
    "source.voice-keypress": ("touche pendant un appel", "key pressed during a call"),
    "optouts.change": ("Changer l’état", "Change the state"),
    "optouts.reason": ("Raison (obligatoire)", "Reason (required)"),
    "optouts.reason.missing": (
        "Écrivez une raison : elle est gardée au journal.",
        "Write a reason: it is kept in the audit trail.",
    ),
    "optouts.do_out": ("Désabonner", "Opt out"),
    "optouts.do_in": ("Réabonner", "Opt back in"),
    "optouts.changed": ("État changé et consigné.", "State changed and recorded."),
    "optouts.unchanged": ("Le numéro était déjà dans cet état.", "The number already was so."),
    "optouts.viewer_note": (
        "Seul un administrateur peut changer un état.", "Only an admin can change a state."
    ),
}


def lang_of(value: str | None) -> Lang | None:
    """The console language named by ``value`` (``fr``/``en``), or None."""
    try:
        return Lang(value) if value else None
    except ValueError:
        return None


def negotiate(accept_language: str | None) -> Lang:
    """The first of French or English the browser asks for (French when it names neither)."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = lang_of(tag.strip().lower()[:2])
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        candidate = (-quality, position, lang)
        if quality > 0 and (best is None or candidate < best):
            best = candidate
    return best[2] if best else Lang.FR


class Words:
    """The catalogue in one language, with number and time formats to match.

    Parameters:
      lang: the operator's language.
      zone: the time zone times are shown in.
    """

    def __init__(self, lang: Lang, *, zone: ZoneInfo) -> None:
        self.lang = lang
        self.zone = zone
        self.locale = _LOCALES[lang]
        self._index = 0 if lang is Lang.FR else 1

    def __call__(self, key: str, **values: object) -> str:
        text = CATALOGUE[key][self._index]
        return text.format(**values) if values else text

    def maybe(self, prefix: str, value: str | None) -> str:
        """The catalogue's word for a code (``status.failed``), or the code itself."""
        if not value:
            return self("unknown")
        entry = CATALOGUE.get(f"{prefix}.{value}")
        return entry[self._index] if entry else value

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        # French puts a no-break space before % (so the sign never wraps alone).
        pattern = "#,##0.0\u00a0%" if self.lang is Lang.FR else "#,##0.0%"
        return format_percent(value, pattern, locale=self.locale)

    def when(self, at: dt.datetime | None) -> str:
        """A date and time an operator reads at a glance, in the console's zone."""
        if at is None:
            return "—"
        pattern = "d MMM y, HH 'h' mm" if self.lang is Lang.FR else "MMM d, y, h:mm a"
        return format_datetime(at.astimezone(self.zone), pattern, locale=self.locale)

    def hour(self, at: dt.datetime) -> str:
        pattern = "H 'h'" if self.lang is Lang.FR else "h a"
        return format_datetime(at.astimezone(self.zone), pattern, locale=self.locale)

    def day(self, at: dt.datetime) -> str:
        return format_datetime(at.astimezone(self.zone), "EEE d", locale=self.locale)
