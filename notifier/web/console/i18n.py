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

from notifier.bilingual import LOCALES, Bilingual
from notifier.domain import Lang
from notifier.web.console import times
from notifier.web.console.words import alerts, look, messages, places, story

LANGS = (Lang.FR, Lang.EN)

_FRAME: dict[str, Bilingual] = {
    # Frame.
    "console": Bilingual("Console des opérations", "Operations console"),
    "skip_to_content": Bilingual("Aller au contenu", "Skip to content"),
    "nav.overview": Bilingual("Vue d’ensemble", "Overview"),
    "nav.story": Bilingual("Rendez-vous", "Appointments"),
    "nav.dead_letters": Bilingual("Messages abandonnés", "Dead letters"),
    "nav.opt_outs": Bilingual("Désabonnements", "Opt-outs"),
    "nav.integrators": Bilingual("Intégrateurs", "Integrators"),
    "nav.replies": Bilingual("Réponses à traiter", "Replies to handle"),
    "colon": Bilingual("\u00a0:", ":"),
    "switch_language": Bilingual("English", "Français"),
    "switch_language.label": Bilingual("Switch to English", "Passer au français"),
    "signed_in_as": Bilingual("{name} ({role})", "{name} ({role})"),
    "role.viewer": Bilingual("lecture seule", "viewer"),
    "role.admin": Bilingual("administrateur", "admin"),
    "scope.all": Bilingual("toutes les cliniques", "every clinic"),
    "scope.one": Bilingual("clinique {location}", "clinic {location}"),
    "sign_out": Bilingual("Se déconnecter", "Sign out"),
    "masked_note": Bilingual(
        "Les numéros, courriels et noms sont toujours masqués.",
        "Phone numbers, emails and names are always masked.",
    ),
    # Sign-in.
    "sign_in.title": Bilingual("Connexion", "Sign in"),
    "sign_in.name": Bilingual("Nom d’utilisateur", "User name"),
    "sign_in.password": Bilingual("Mot de passe", "Password"),
    "sign_in.submit": Bilingual("Se connecter", "Sign in"),
    "sign_in.wrong": Bilingual(
        "Nom d’utilisateur ou mot de passe incorrect.",
        "Wrong user name or password.",
    ),
    "sign_in.throttled": Bilingual(
        "Trop de tentatives manquées. Réessayez dans {seconds} s.",
        "Too many failed attempts. Try again in {seconds} s.",
    ),
    "sign_in.disabled": Bilingual(
        "Aucun opérateur n’est configuré (NOTIFIER_OPERATORS) : la console est fermée.",
        "No operators are configured (NOTIFIER_OPERATORS): the console is closed.",
    ),
    "sign_in.expired": Bilingual(
        "Votre session a expiré. Reconnectez-vous.",
        "Your session has expired. Please sign in again.",
    ),
    # Errors.
    "error.forbidden.title": Bilingual("Accès refusé", "Access denied"),
    "error.forbidden": Bilingual(
        "Votre rôle ne permet pas cette page ou cette action.",
        "Your role does not allow this page or action.",
    ),
    "error.csrf.title": Bilingual("Formulaire expiré", "Form expired"),
    "error.csrf": Bilingual(
        "Ce formulaire a expiré ou ne vient pas de la console. Rechargez la page et recommencez.",
        "This form has expired or did not come from the console. Reload the page and try again.",
    ),
    "error.not_found.title": Bilingual("Introuvable", "Not found"),
    "error.not_found": Bilingual(
        "Aucun rendez-vous avec ce numéro de référence dans ce que vous pouvez voir.",
        "No appointment with this reference number among those you can see.",
    ),
    "error.back": Bilingual("Retour à la vue d’ensemble", "Back to the overview"),
    # Overview.
    "overview.title": Bilingual("Vue d’ensemble", "Overview"),
    "overview.updated": Bilingual("Mis à jour le {when}", "Updated {when}"),
    "overview.health.ok": Bilingual("Tout va bien", "All good"),
    "overview.health.attention": Bilingual("À surveiller", "Needs attention"),
    "overview.health.problem": Bilingual("Problème", "Problem"),
    "queues.title": Bilingual("Files d’attente", "Queues"),
    "queues.queue": Bilingual("File", "Queue"),
    "queues.ready": Bilingual("Prêts", "Ready"),
    "queues.in_progress": Bilingual("En cours", "In progress"),
    "queues.delayed": Bilingual("Nouvelles tentatives différées", "Delayed retries"),
    "queues.dead": Bilingual("Abandonnés", "Dead letters"),
    "queues.workers": Bilingual("Processus de traitement actifs", "Live workers"),
    "queues.scheduler": Bilingual("Dernier passage du planificateur", "Scheduler’s last run"),
    "queues.scheduler.never": Bilingual("jamais vu", "never seen"),
    "queues.redis": Bilingual("Redis primaire", "Redis primary"),
    "queues.redis.sentinel": Bilingual(
        "trouvé par Sentinel « {service} » : {answering} sentinelles sur {listed} répondent",
        "found through Sentinel '{service}': {answering} of {listed} sentinels answer"),
    "queues.redis.replicas": Bilingual(
        "réplicas qui confirment une écriture : {acknowledged} sur {connected} connectés "
        "(il en faut {required})",
        "replicas confirming a write: {acknowledged} of {connected} connected "
        "({required} required)"),
    "queues.scheduler.ago": Bilingual("il y a {seconds} s", "{seconds} s ago"),
    "queues.schedule_size": Bilingual("Messages planifiés", "Scheduled messages"),
    "ahead.title": Bilingual("À venir", "Coming up"),
    "ahead.hours": Bilingual("Prochaines 24 heures, par heure", "Next 24 hours, by hour"),
    "ahead.days": Bilingual("Prochains 7 jours, par jour", "Next 7 days, by day"),
    "ahead.total": Bilingual("{count} messages à envoyer", "{count} messages due"),
    "deliveries.title": Bilingual("Envois", "Deliveries"),
    "deliveries.period": Bilingual("Période", "Period"),
    "deliveries.read_at": Bilingual(
        "Comptes lus le {when} (relus toutes les 30 secondes au plus).",
        "Counts read {when} (read again every 30 seconds at most).",
    ),
    "period.hour": Bilingual("Dernière heure", "Last hour"),
    "period.day": Bilingual("Dernières 24 heures", "Last 24 hours"),
    "period.week": Bilingual("7 derniers jours", "Last 7 days"),
    "deliveries.rate": Bilingual("Taux de livraison", "Delivery rate"),
    "deliveries.finished.label": Bilingual("Envois terminés", "Finished deliveries"),
    "deliveries.redundant.label": Bilingual(
        "Livrés en retard, après l’envoi de leur message de repli",
        "Delivered late, after their fallback was sent",
    ),
    "deliveries.rate.none": Bilingual("aucun envoi terminé", "no finished delivery"),
    "deliveries.rate.help": Bilingual(
        "Livrés ou envoyés, sur tous les envois terminés (hors messages retenus).",
        "Delivered or sent, out of every finished delivery (held-back messages excluded).",
    ),
    "deliveries.by.status": Bilingual("Par statut", "By status"),
    "deliveries.by.channel": Bilingual("Par mode", "By channel"),
    "deliveries.by.kind": Bilingual("Par type de message", "By message kind"),
    "deliveries.by.lang": Bilingual("Par langue", "By language"),
    "deliveries.by.location": Bilingual("Par clinique", "By clinic"),
    "deliveries.count": Bilingual("Nombre", "Count"),
    "deliveries.none": Bilingual(
        "Aucun envoi pendant cette période.",
        "No deliveries in this period.",
    ),
    "deliveries.over_time": Bilingual("Envois dans le temps", "Deliveries over time"),
    "failures.title": Bilingual("Échecs et raisons", "Failures and their reasons"),
    "failures.none": Bilingual("Aucun échec pendant cette période.", "No failures in this period."),
    "failures.reason": Bilingual("Raison", "Reason"),
    "failures.count": Bilingual("Nombre", "Count"),
    "chart.empty": Bilingual("Rien à afficher.", "Nothing to show."),
    "chart.summary": Bilingual("{label} : {count}", "{label}: {count}"),
    # Values.
    # A delivery record's status: the public status's word first (the integrators' API's
    # vocabulary), then what the record says more.
    "status.submitting": Bilingual("en cours d’envoi", "sending"),
    "status.retrying": Bilingual("en cours d’envoi : nouvel essai prévu",
                                 "sending: another try planned"),
    "status.accepted": Bilingual("envoyé : accepté par le fournisseur",
                                 "sent: accepted by the provider"),
    "status.sent": Bilingual("envoyé", "sent"),
    "status.delivered": Bilingual("livré", "delivered"),
    "status.undelivered": Bilingual("échec : non livré", "failed: not delivered"),
    "status.failed": Bilingual("échec", "failed"),
    "status.suppressed": Bilingual("non envoyé", "suppressed"),
    "channel.email": Bilingual("courriel", "email"),
    "channel.sms": Bilingual("texto", "SMS"),
    "channel.voice": Bilingual("appel vocal", "voice call"),
    "kind.confirmation": Bilingual("confirmation", "confirmation"),
    "kind.modification": Bilingual("modification", "modification"),
    "kind.cancellation": Bilingual("annulation", "cancellation"),
    "kind.reminder": Bilingual("rappel", "reminder"),
    "kind.contact_change": Bilingual("coordonnées modifiées", "contact details changed"),
    "kind.no_show": Bilingual("absence", "no-show"),
    "lang.fr": Bilingual("français", "French"),
    "lang.en": Bilingual("anglais", "English"),
    "unknown": Bilingual("(inconnu)", "(unknown)"),
    # Story.
    "story.title": Bilingual("Historique d’un rendez-vous", "An appointment’s story"),
    "story.reference": Bilingual(
        "Numéro de référence (10 chiffres)",
        "Reference number (10 digits)",
    ),
    "story.search": Bilingual("Chercher", "Search"),
    "story.bad_reference": Bilingual(
        "Un numéro de référence compte exactement 10 chiffres.",
        "A reference number has exactly 10 digits.",
    ),
    "story.appointment": Bilingual("Rendez-vous {reference}", "Appointment {reference}"),
    "story.patient": Bilingual("Patient", "Patient"),
    "story.start": Bilingual("Début", "Start"),
    "story.clinic": Bilingual("Clinique", "Clinic"),
    "story.status": Bilingual("État", "Status"),
    "story.version": Bilingual("Version", "Version"),
    "story.modes": Bilingual("Modes", "Modes"),
    "story.contacts": Bilingual("Coordonnées", "Contact details"),
    "story.timeline": Bilingual("Chronologie", "Timeline"),
    "story.when": Bilingual("Quand", "When"),
    "story.what": Bilingual("Quoi", "What"),
    "story.details": Bilingual("Détails", "Details"),
    "story.pending": Bilingual("Messages planifiés", "Planned messages"),
    "story.pending.none": Bilingual("Aucun message en attente.", "No message waiting."),
    "story.due": Bilingual("Prévu le", "Due"),
    "story.deliveries": Bilingual("Envois", "Deliveries"),
    "story.empty": Bilingual("Rien d’enregistré pour ce rendez-vous.", "Nothing recorded for it."),
    "story.attempts": Bilingual("Tentatives : {count}", "Attempts: {count}"),
    "story.key": Bilingual("Clé d’envoi", "Send key"),
    "story.lang": Bilingual("Langue", "Language"),
    "what.event": Bilingual("Événement reçu", "Event received"),
    "what.sent": Bilingual("Remis au fournisseur", "Handed to the provider"),
    "what.suppressed": Bilingual("Retenu", "Held back"),
    "what.failed": Bilingual("Échec", "Failed"),
    "what.pending": Bilingual("Planifié", "Planned"),
    "what.delivery": Bilingual("Suivi de l’envoi", "Delivery record"),
    "what.version_reset": Bilingual(
        "Version corrigée par un opérateur",
        "Version reset by an operator",
    ),
    "story.by": Bilingual("Par {actor}", "By {actor}"),
    "event.appointment.booked": Bilingual("rendez-vous pris", "appointment booked"),
    "event.appointment.modified": Bilingual("rendez-vous modifié", "appointment changed"),
    "event.appointment.contact_changed": Bilingual(
        "coordonnées modifiées",
        "contact details changed",
    ),
    "event.appointment.cancelled": Bilingual("rendez-vous annulé", "appointment cancelled"),
    "event.appointment.attendance_changed": Bilingual("présence indiquée", "attendance set"),
    "intake.accepted": Bilingual("accepté", "accepted"),
    "intake.ignored": Bilingual("ignoré", "ignored"),
    "appointment.booked": Bilingual("réservé", "booked"),
    "appointment.cancelled": Bilingual("annulé", "cancelled"),
    # Dead letters.
    "dead.title": Bilingual("Messages abandonnés", "Dead letters"),
    "dead.help": Bilingual(
        "Messages qui ont épuisé leurs nouvelles tentatives. Remettez-les en file une fois la "
        "cause réglée, ou supprimez-les.",
        "Messages that used up their retries. Requeue them once the cause is fixed, or discard "
        "them.",
    ),
    "dead.none": Bilingual("Aucun message abandonné.", "No dead letters."),
    "dead.queue": Bilingual("File", "Queue"),
    "dead.actor": Bilingual("Tâche", "Task"),
    "dead.failed_at": Bilingual("Abandonné le", "Failed"),
    "dead.message": Bilingual("Message", "Message"),
    "dead.error": Bilingual("Dernière erreur", "Last error"),
    "dead.inspect": Bilingual("Voir le détail", "Inspect"),
    "dead.reason": Bilingual("Raison (gardée au journal)", "Reason (kept in the audit)"),
    "dead.requeue": Bilingual("Remettre en file", "Requeue"),
    "dead.requeue_all": Bilingual("Tout remettre en file", "Requeue all"),
    "dead.discard": Bilingual("Supprimer", "Discard"),
    "dead.confirm_discard": Bilingual(
        "Supprimer ce message pour de bon?",
        "Discard this message for good?",
    ),
    "dead.requeued": Bilingual("{count} message(s) remis en file.", "{count} message(s) requeued."),
    "dead.discarded": Bilingual("Message supprimé.", "Message discarded."),
    "dead.gone": Bilingual(
        "Ce message n’est plus dans les abandonnés (déjà traité?).",
        "That message is no longer a dead letter (already handled?).",
    ),
    "dead.viewer_note": Bilingual(
        "Seul un administrateur peut remettre en file ou supprimer.",
        "Only an admin can requeue or discard.",
    ),
    "dead.actions": Bilingual("Actions des opérateurs", "Operators’ actions"),
    "dead.actions.none": Bilingual("Aucune action enregistrée.", "No action recorded."),
    "dead.action.who": Bilingual("Qui", "Who"),
    "dead.action.what": Bilingual("Action", "Action"),
    "action.requeue": Bilingual("remis en file", "requeued"),
    "action.requeue_all": Bilingual("tout remis en file", "requeued all"),
    "action.discard": Bilingual("supprimé", "discarded"),
    "action.reset_version": Bilingual("version corrigée", "version reset"),
    # Opt-outs.
    "optouts.title": Bilingual("Désabonnements", "Opt-outs"),
    "optouts.counts": Bilingual("Numéros désabonnés en ce moment", "Numbers opted out now"),
    "optouts.audit": Bilingual("Changements enregistrés", "Changes recorded"),
    "optouts.lookup": Bilingual("Vérifier un numéro", "Look up a number"),
    "optouts.number": Bilingual(
        "Numéro complet (p. ex. +15145550123)",
        "Full number (e.g. +15145550123)",
    ),
    "optouts.lookup.submit": Bilingual("Vérifier", "Look up"),
    "optouts.lookup.help": Bilingual(
        "Le numéro n’est jamais affiché en clair ni conservé dans l’adresse de la page.",
        "The number is never shown in clear nor kept in the page address.",
    ),
    "optouts.invalid": Bilingual(
        "Ce n’est pas un numéro de téléphone en format international (+1…).",
        "That is not a phone number in international form (+1…).",
    ),
    "optouts.expired": Bilingual(
        "Cette recherche a expiré : entrez le numéro de nouveau.",
        "This lookup has expired: enter the number again.",
    ),
    "optouts.result": Bilingual("État de {number}", "State of {number}"),
    "optouts.channel": Bilingual("Mode", "Channel"),
    "optouts.state": Bilingual("État", "State"),
    "optouts.since": Bilingual("Depuis", "Since"),
    "optouts.source": Bilingual("Origine", "Source"),
    "optouts.state.out": Bilingual("désabonné", "opted out"),
    "optouts.state.in": Bilingual("abonné", "opted in"),
    "optouts.state.never": Bilingual("jamais changé (abonné)", "never changed (opted in)"),
    "source.sms-keyword": Bilingual("mot-clé texto", "SMS keyword"),
    "source.twilio-21610": Bilingual(
        "refus signalé par Twilio (21610)",
        "blocked, per Twilio (21610)",
    ),
    "source.operator": Bilingual("opérateur", "operator"),
    "source.voice-keypress": Bilingual("touche pendant un appel", "key pressed during a call"),
    "optouts.change": Bilingual("Changer l’état", "Change the state"),
    "optouts.reason": Bilingual("Raison (obligatoire)", "Reason (required)"),
    "optouts.reason.missing": Bilingual(
        "Écrivez une raison : elle est gardée au journal.",
        "Write a reason: it is kept in the audit trail.",
    ),
    "optouts.do_out": Bilingual("Désabonner", "Opt out"),
    "optouts.do_in": Bilingual("Réabonner", "Opt back in"),
    "optouts.changed": Bilingual("État changé et consigné.", "State changed and recorded."),
    "optouts.unchanged": Bilingual(
        "Le numéro était déjà dans cet état.",
        "The number already was so.",
    ),
    "optouts.viewer_note": Bilingual(
        "Seul un administrateur peut changer un état.",
        "Only an admin can change a state.",
    ),
    # Undeliverable contacts.
    "undeliverable.title": Bilingual("Coordonnées injoignables", "Undeliverable contacts"),
    "undeliverable.help": Bilingual(
        "Les numéros et les adresses courriel qu’un fournisseur a refusés pour de bon (ligne "
        "fixe, numéro invalide, courriel refusé ou adresse invalide), gardés 90 jours. "
        "Corrigez-les dans le système de rendez-vous : son prochain événement avec la "
        "nouvelle coordonnée les retire de la liste. Si la clinique a un mode de repli, "
        "les messages suivants passent directement par ce mode.",
        "The phone numbers and email addresses a provider refused for good (a landline, an "
        "invalid number, a bounced email or an invalid address), kept 90 days. Fix them in "
        "the booking system: its next event with the new contact detail takes them off "
        "this list. Where the clinic has a fallback, later messages go straight to it.",
    ),
    "undeliverable.by_clinic": Bilingual("Par clinique", "By clinic"),
    "undeliverable.clinic": Bilingual("Clinique", "Clinic"),
    "undeliverable.count": Bilingual("Nombre", "Count"),
    "undeliverable.of_clinic": Bilingual("Clinique {location}", "Clinic {location}"),
    "undeliverable.address": Bilingual("Coordonnée", "Contact detail"),
    "undeliverable.reason": Bilingual("Raison", "Reason"),
    "undeliverable.since": Bilingual("Depuis le", "Since"),
    "undeliverable.none": Bilingual(
        "Aucune coordonnée injoignable.",
        "No undeliverable contacts.",
    ),
    "undeliverable.newest": Bilingual(
        "Les {shown} plus récentes sur {total}.",
        "The {shown} most recent of {total}.",
    ),
    "undeliverable.bad_location": Bilingual(
        "Un code de clinique ne compte que des lettres minuscules, des chiffres, « - » et "
        "« _ ».",
        "A clinic code holds only lowercase letters, digits, '-' and '_'.",
    ),
    "undeliverable.overview": Bilingual(
        "Coordonnées injoignables : {count}",
        "Undeliverable contacts: {count}",
    ),
    "undeliverable.see": Bilingual("Voir la liste", "See the list"),
    # Integrators.
    "integrators.title": Bilingual("Intégrateurs", "Integrators"),
    "integrators.help": Bilingual(
        "Les systèmes de rendez-vous, les points de réception où ils reçoivent leurs avis, "
        "et ce qui les attend. Lecture seule : les changements se font avec « notifier "
        "integrators ». Un point de réception n’est montré que par son hôte et son port : "
        "le reste de son adresse peut contenir un jeton.",
        "The booking systems, the endpoints where they receive their callbacks, and what "
        "waits for them. Read-only: changes are made with 'notifier integrators'. An "
        "endpoint shows its host and port only: the rest of its address may hold a token.",
    ),
    "integrators.callbacks": Bilingual(
        "Avis aux systèmes de rendez-vous",
        "Callbacks to booking systems",
    ),
    "integrators.waiting": Bilingual("En attente", "Waiting"),
    "integrators.oldest": Bilingual("Le plus ancien à envoyer", "Oldest due"),
    "integrators.oldest.minutes": Bilingual("dû depuis {minutes} min", "due {minutes} min ago"),
    "integrators.oldest.none": Bilingual("aucun", "none"),
    "integrators.dead": Bilingual("Abandonnés", "Given up"),
    "integrators.suspended": Bilingual("Points de réception suspendus", "Suspended endpoints"),
    "integrators.disabled": Bilingual("Points de réception désactivés", "Disabled endpoints"),
    "integrators.late": Bilingual(
        "Un avis attend depuis plus de 30 minutes d’être envoyé : vérifiez que le "
        "planificateur tourne (« notifier status »).",
        "A callback has been due for over 30 minutes: check that the scheduler is running "
        "('notifier status').",
    ),
    "integrators.partial": Bilingual(
        "Trop d’avis pour les compter tous par point de réception : les nombres par point "
        "de réception sont des minimums.",
        "Too many callbacks to count them all per endpoint: the numbers per endpoint are "
        "minimums.",
    ),
    "integrators.locations": Bilingual("Cliniques", "Clinics"),
    "integrators.endpoint": Bilingual("Point de réception", "Endpoint"),
    "integrators.state": Bilingual("État", "State"),
    "integrators.delivered": Bilingual("Livrés", "Delivered"),
    "integrators.failed": Bilingual("Essais échoués", "Failed attempts"),
    "integrators.last_answer": Bilingual("Dernière réponse", "Last answer"),
    "integrators.answer.none": Bilingual("aucune encore", "none yet"),
    "integrators.failure.timeout": Bilingual("pas de réponse en 15 s", "no answer within 15 s"),
    "integrators.failure.connection": Bilingual("connexion impossible", "no connection"),
    "integrators.failure.refused_destination": Bilingual("adresse refusée", "address refused"),
    "integrators.failure.redirect_not_followed": Bilingual(
        "redirection non suivie",
        "redirect not followed",
    ),
    "integrators.state.active": Bilingual("actif", "active"),
    "integrators.state.suspended": Bilingual("suspendu", "suspended"),
    "integrators.state.disabled": Bilingual("désactivé", "disabled"),
    "integrators.since": Bilingual("depuis le {when}", "since {when}"),
    "integrators.failing_since": Bilingual("en échec depuis le {when}", "failing since {when}"),
    "integrators.next": Bilingual("À faire", "Next"),
    "integrators.next.suspended": Bilingual(
        "il échouait depuis des jours. Quand {integrator} l’aura réparé, « {test} » le "
        "réactive s’il répond, puis « {recover} » lui renvoie ce qu’il a manqué.",
        "it failed for days. Once {integrator} has fixed it, '{test}' makes it active "
        "again if it answers, then '{recover}' sends it what it missed.",
    ),
    "integrators.next.disabled": Bilingual(
        "il a répondu 410 (Gone) ou un opérateur l’a désactivé. Quand {integrator} voudra "
        "de nouveau recevoir ses avis : « {enable} ».",
        "it answered 410 Gone or an operator disabled it. When {integrator} wants its "
        "callbacks again: '{enable}'.",
    ),
    "integrators.next.dead": Bilingual(
        "« {recover} » renvoie ses avis abandonnés.",
        "'{recover}' sends its given-up callbacks again.",
    ),
    "integrators.no_endpoints": Bilingual(
        "Aucun point de réception : cet intégrateur ne reçoit pas d’avis.",
        "No endpoint: this integrator receives no callbacks.",
    ),
    "integrators.none": Bilingual(
        "Aucun intégrateur. On en ajoute avec « notifier integrators add ».",
        "No integrators. Add one with 'notifier integrators add'.",
    ),
    # Patients' texts that need a human.
    "replies.title": Bilingual("Réponses de patients à traiter", "Patients' replies to handle"),
    "replies.help": Bilingual(
        "Textos reçus pendant qu’une question était ouverte et qui n’y répondent pas (ni 1 ni "
        "2) : quelqu’un doit les lire et, au besoin, rappeler le patient. Les 30 derniers "
        "jours.",
        "Texts received while a question was open that do not answer it (neither 1 nor 2): "
        "someone must read them and, if need be, call the patient back. The last 30 days.",
    ),
    "replies.when": Bilingual("Reçu", "Received"),
    "replies.from": Bilingual("De", "From"),
    "replies.appointments": Bilingual("Rendez-vous", "Appointments"),
    "replies.text": Bilingual("Texte", "Text"),
    "replies.hidden": Bilingual("masqué (administrateurs seulement)", "hidden (admins only)"),
    "replies.none": Bilingual("Aucune réponse à traiter.", "No replies to handle."),
}


def _joined(*parts: dict[str, Bilingual]) -> dict[str, Bilingual]:
    catalogue: dict[str, Bilingual] = {}
    for part in parts:
        twice = catalogue.keys() & part.keys()
        if twice:
            raise ValueError(f"console words written twice: {sorted(twice)}")
        catalogue.update(part)
    return catalogue


CATALOGUE = _joined(_FRAME, messages.WORDS, places.WORDS, story.WORDS, look.WORDS,
                    alerts.WORDS)


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
        self.locale = LOCALES[lang]

    def __call__(self, key: str, **values: object) -> str:
        text = CATALOGUE[key][self.lang]
        return text.format(**values) if values else text

    def maybe(self, prefix: str, value: str | None) -> str:
        """The catalogue's word for a code (``status.failed``), or the code itself."""
        if not value:
            return self("unknown")
        entry = CATALOGUE.get(f"{prefix}.{value}")
        return entry[self.lang] if entry else value

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        # French puts a no-break space before % (so the sign never wraps alone).
        pattern = "#,##0.0\u00a0%" if self.lang is Lang.FR else "#,##0.0%"
        return format_percent(value, pattern, locale=self.locale)

    def when(self, at: dt.datetime | None) -> str:
        """A date and time an operator reads at a glance, in the console's zone, with the
        zone's abbreviation (``24 nov. 2026, 15 h 05 HNE``)."""
        if at is None:
            return "—"
        return times.labelled(at, self.zone, self.lang)

    def where(self, at: dt.datetime | None, zone: ZoneInfo | None) -> str:
        """A moment in a place's zone (a clinic's), with the console's hour after it when
        the clocks differ there (see :func:`.times.in_place`); in the console's zone when
        the place's is unknown.

        Parameters:
          at: the instant, or None (a dash).
          zone: the place's zone, or None.
        """
        if at is None:
            return "—"
        if zone is None:
            return self.when(at)
        return times.in_place(at, zone, console=self.zone, lang=self.lang)

    def zone_note(self, at: dt.datetime) -> str:
        """The caption of a chart whose axis reads hours in the console's zone."""
        return self("places.chart_zone", zone=times.abbreviation(at, self.zone, self.lang),
                    city=times.city(self.zone, self.lang))

    def hour(self, at: dt.datetime) -> str:
        pattern = "H 'h'" if self.lang is Lang.FR else "h a"
        return format_datetime(at.astimezone(self.zone), pattern, locale=self.locale)

    def day(self, at: dt.datetime) -> str:
        return format_datetime(at.astimezone(self.zone), "EEE d", locale=self.locale)
