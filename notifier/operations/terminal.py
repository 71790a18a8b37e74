"""The health summary and the dead letters as ``notifier`` prints them, in English or
French, numbers right-aligned in columns and written the way each language writes them.

Times are shown in UTC (the command may run on a server set to any zone) and say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.numbers import format_decimal, format_percent

from notifier.bilingual import LOCALES, Bilingual
from notifier.domain import Lang
from notifier.operations.dead_letters import DeadLetter
from notifier.operations.redis_topology import RedisTopology
from notifier.operations.status import HealthSummary, describe_problem

# Every word the terminal prints.
_WORDS: dict[str, Bilingual] = {
    "title": Bilingual("État de la passerelle à {at}", "Notifier status at {at}"),
    "healthy": Bilingual("EN BON ÉTAT", "HEALTHY"),
    "unhealthy": Bilingual("EN PANNE", "UNHEALTHY"),
    "queues": Bilingual("Files", "Queues"),
    "ready": Bilingual("prêts", "ready"),
    "delayed": Bilingual("différés", "delayed"),
    "in_flight": Bilingual("en cours", "in flight"),
    "dead": Bilingual("morts", "dead"),
    "workers": Bilingual("Travailleurs actifs", "Live workers"),
    "scheduler": Bilingual("Dernier passage du planificateur", "Scheduler's last pass"),
    "never": Bilingual("jamais", "never"),
    "ago": Bilingual("il y a {age}", "{age} ago"),
    "schedule": Bilingual("Planifiés", "Schedule"),
    "due_next_hour": Bilingual("dus d'ici une heure", "due within the hour"),
    "overdue": Bilingual("en retard", "overdue"),
    "deliveries": Bilingual("Livraisons, dernière heure", "Deliveries, last hour"),
    "rate": Bilingual("taux de livraison", "delivery rate"),
    "dead_letters": Bilingual("Lettres mortes", "Dead letters"),
    "opt_outs": Bilingual("Désabonnements", "Opt-outs"),
    "callbacks": Bilingual("Avis aux intégrateurs", "Callbacks"),
    "waiting": Bilingual("en attente", "waiting"),
    "oldest_due": Bilingual("le plus ancien dû depuis {age}", "oldest due {age} ago"),
    "given_up": Bilingual("abandonnés", "given up"),
    "endpoints": Bilingual("Points de réception", "Endpoints"),
    "undeliverable": Bilingual("Coordonnées injoignables", "Undeliverable contacts"),
    "redundant": Bilingual("Livrés en retard après leur repli, dernière heure",
                           "Delivered late after their fallback, last hour"),
    "active": Bilingual("actifs", "active"),
    "suspended": Bilingual("suspendus", "suspended"),
    "disabled": Bilingual("désactivés", "disabled"),
    "changes": Bilingual("changements consignés", "changes recorded"),
    "redis": Bilingual("Redis", "Redis"),
    "primary": Bilingual("primaire {at}", "primary {at}"),
    "through_sentinel": Bilingual("trouvé par Sentinel « {service} », {answering} sentinelles "
                                  "sur {listed} répondent",
                                  "found through Sentinel '{service}', {answering} of {listed} "
                                  "sentinels answer"),
    "replicas": Bilingual("réplicas connectés {connected}, qui confirment une écriture "
                          "{acknowledged} ; les écritures confirmées en attendent {required}",
                          "replicas connected {connected}, confirming a write "
                          "{acknowledged}; acknowledged writes wait for {required}"),
    "problems": Bilingual("Problèmes", "Problems"),
    "warnings": Bilingual("Avertissements", "Warnings"),
    "none": Bilingual("aucune", "none"),
    "failed_at": Bilingual("échec à (UTC)", "failed at (UTC)"),
    "queue": Bilingual("file", "queue"),
    "id": Bilingual("id", "id"),
    "actor": Bilingual("acteur", "actor"),
    "retries": Bilingual("essais", "retries"),
    "about": Bilingual("objet", "about"),
    "reason": Bilingual("raison", "reason"),
    "record": Bilingual("dossier", "record"),
    "no_dead_letters": Bilingual("Aucune lettre morte.", "No dead letters."),
    # Statuses and channels.
    "email": Bilingual("courriel", "email"),
    "sms": Bilingual("texto", "SMS"),
    "voice": Bilingual("vocal", "voice"),
    "audit": Bilingual("registre", "audit"),
    "accepted": Bilingual("acceptés", "accepted"),
    "sent": Bilingual("envoyés", "sent"),
    "delivered": Bilingual("livrés", "delivered"),
    "undelivered": Bilingual("non livrés", "undelivered"),
    "failed": Bilingual("échoués", "failed"),
    "suppressed": Bilingual("retenus", "suppressed"),
}


def colon(lang: Lang) -> str:
    """French sets a space before a colon."""
    return " :" if lang is Lang.FR else ":"


def word(name: str, lang: Lang) -> str:
    words = _WORDS.get(name)
    return name if words is None else words[lang]


def number(value: int, lang: Lang) -> str:
    return format_decimal(value, locale=LOCALES[lang])


def percent(value: float, lang: Lang) -> str:
    pattern = "#,##0.0 %" if lang is Lang.FR else "#,##0.0%"
    return format_percent(value, format=pattern, locale=LOCALES[lang])


def utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(delta: dt.timedelta, lang: Lang) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    hours = seconds // 3600
    return f"{hours} h" if hours < 48 else (f"{hours // 24} j" if lang is Lang.FR
                                             else f"{hours // 24} d")


def table(rows: Sequence[Sequence[str]], *, right: Sequence[bool], indent: str = "  ") -> str:
    """Rows as aligned columns: ``right[i]`` right-aligns column ``i`` (numbers)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(right))]
    lines = []
    for row in rows:
        cells = [cell.rjust(w) if r else cell.ljust(w)
                 for cell, w, r in zip(row, widths, right, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def _pairs(counts: dict[str, int], lang: Lang) -> str:
    if not counts:
        return word("none", lang)
    return ", ".join(f"{word(name, lang)} {number(n, lang)}" for name, n in counts.items())


def render_status(summary: HealthSummary, lang: Lang = Lang.EN) -> str:
    """The summary as the terminal shows it."""
    state = word("healthy" if summary.healthy else "unhealthy", lang)
    out = [f"{word('title', lang).format(at=utc(summary.checked_at))}{colon(lang)} {state}", ""]

    header = [word("queues", lang), *(word(w, lang) for w in
                                      ("ready", "delayed", "in_flight", "dead"))]
    rows = [header] + [
        [q.queue, *(number(n, lang) for n in (q.ready, q.delayed, q.in_flight, q.dead))]
        for q in summary.queues
    ]
    out += [table(rows, right=[False, True, True, True, True], indent=""), ""]

    if summary.scheduler_last_run is None or summary.scheduler_age is None:
        last_run = word("never", lang)
    else:
        age = word("ago", lang).format(age=duration(summary.scheduler_age, lang))
        last_run = f"{utc(summary.scheduler_last_run)} ({age})"
    deliveries = _pairs(summary.deliveries_last_hour, lang)
    if summary.delivery_rate is not None:
        deliveries += f"; {word('rate', lang)} {percent(summary.delivery_rate, lang)}"
    opt_outs = {k: v for k, v in summary.opt_outs.items() if k != "audit"}
    facts = [
        [word("workers", lang), number(summary.live_workers, lang)],
        [word("scheduler", lang), last_run],
        [word("schedule", lang),
         f"{_pairs(summary.schedule_size, lang)}; {word('due_next_hour', lang)} "
         f"{number(summary.due_next_hour, lang)}, {word('overdue', lang)} "
         f"{number(summary.overdue, lang)}"],
        [word("deliveries", lang), deliveries],
        [word("dead_letters", lang), number(summary.dead_letters, lang)],
        [word("opt_outs", lang),
         f"{_pairs(opt_outs, lang)}; {word('changes', lang)} "
         f"{number(summary.opt_outs.get('audit', 0), lang)}"],
        [word("callbacks", lang), _callbacks(summary, lang)],
        [word("endpoints", lang), _pairs(summary.callbacks.endpoints, lang)],
    ]
    if summary.redis is not None:
        facts.append([word("redis", lang), _redis(summary.redis, lang)])
    if summary.fallback_redundant_last_hour:
        facts.append([word("redundant", lang),
                      number(summary.fallback_redundant_last_hour, lang)])
    if summary.undeliverable_contacts:
        facts.append([word("undeliverable", lang),
                      _pairs(summary.undeliverable_contacts, lang)])
    out += [table(facts, right=[False, False], indent="")]
    for title, codes in (("problems", summary.problems), ("warnings", summary.warnings)):
        if codes:
            out += ["", f"{word(title, lang)}{colon(lang)}"]
            out += [f"  - {describe_problem(code, lang)}" for code in codes]
    return "\n".join(out)


def _redis(topology: RedisTopology, lang: Lang) -> str:
    parts = [word("primary", lang).format(at=topology.primary)]
    if topology.service is not None:
        parts.append(word("through_sentinel", lang).format(
            service=topology.service, answering=topology.sentinels_answering,
            listed=topology.sentinels_listed))
    parts.append(word("replicas", lang).format(
        connected=topology.replicas, acknowledged=topology.acknowledged,
        required=topology.required))
    return "; ".join(parts) if lang is Lang.EN else " ; ".join(parts)


def _callbacks(summary: HealthSummary, lang: Lang) -> str:
    callbacks = summary.callbacks
    waiting = f"{word('waiting', lang)} {number(callbacks.waiting, lang)}"
    if callbacks.oldest_due_age is not None:
        age = duration(callbacks.oldest_due_age, lang)
        waiting += f" ({word('oldest_due', lang).format(age=age)})"
    return f"{waiting}, {word('given_up', lang)} {number(callbacks.dead, lang)}"


def render_dead_letters(letters: Sequence[DeadLetter], lang: Lang = Lang.EN) -> str:
    """Dead letters as a table, newest first; the reason on its own indented line."""
    if not letters:
        return word("no_dead_letters", lang)
    header = [word(w, lang) for w in ("failed_at", "queue", "id", "actor", "retries",
                                      "record", "about")]
    rows = [header]
    for letter in letters:
        about = " ".join(f"{k}={v}" for k, v in letter.summary.items())
        rows.append([utc(letter.failed_at).removesuffix(" UTC"), letter.queue,
                     letter.message_id, letter.actor, number(letter.retries, lang),
                     letter.delivery_status or "-", about])
    lines = table(rows, right=[False, False, False, False, True, False, False],
                  indent="").splitlines()
    out = [lines[0]]
    for line, letter in zip(lines[1:], letters, strict=True):
        out.append(line)
        if letter.reason:
            out.append(f"    {word('reason', lang)}{colon(lang)} {letter.reason}")
    return "\n".join(out)
