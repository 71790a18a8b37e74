"""The health summary and the dead letters as ``notifier`` prints them, in English or
French, numbers right-aligned in columns and written the way each language writes them.

Times are shown in UTC (the command may run on a server set to any zone) and say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.numbers import format_decimal, format_percent

from notifier.domain import Lang
from notifier.operations.dead_letters import DeadLetter
from notifier.operations.status import HealthSummary, describe_problem

_LOCALE = {Lang.EN: "en_CA", Lang.FR: "fr_CA"}

# Every word the terminal prints, by language.
_WORDS: dict[str, tuple[str, str]] = {
    "title": ("Notifier status at {at}", "État de la passerelle à {at}"),
    "healthy": ("HEALTHY", "EN BON ÉTAT"),
    "unhealthy": ("UNHEALTHY", "EN PANNE"),
    "queues": ("Queues", "Files"),
    "ready": ("ready", "prêts"),
    "delayed": ("delayed", "différés"),
    "in_flight": ("in flight", "en cours"),
    "dead": ("dead", "morts"),
    "workers": ("Live workers", "Travailleurs actifs"),
    "scheduler": ("Scheduler's last pass", "Dernier passage du planificateur"),
    "never": ("never", "jamais"),
    "ago": ("{age} ago", "il y a {age}"),
    "schedule": ("Schedule", "Planifiés"),
    "due_next_hour": ("due within the hour", "dus d'ici une heure"),
    "overdue": ("overdue", "en retard"),
    "deliveries": ("Deliveries, last hour", "Livraisons, dernière heure"),
    "rate": ("delivery rate", "taux de livraison"),
    "dead_letters": ("Dead letters", "Lettres mortes"),
    "opt_outs": ("Opt-outs", "Désabonnements"),
    "changes": ("changes recorded", "changements consignés"),
    "problems": ("Problems", "Problèmes"),
    "warnings": ("Warnings", "Avertissements"),
    "none": ("none", "aucune"),
    "failed_at": ("failed at (UTC)", "échec à (UTC)"),
    "queue": ("queue", "file"),
    "id": ("id", "id"),
    "actor": ("actor", "acteur"),
    "retries": ("retries", "essais"),
    "about": ("about", "objet"),
    "reason": ("reason", "raison"),
    "record": ("record", "dossier"),
    "no_dead_letters": ("No dead letters.", "Aucune lettre morte."),
    # Statuses and channels.
    "email": ("email", "courriel"),
    "sms": ("SMS", "texto"),
    "voice": ("voice", "vocal"),
    "audit": ("audit", "registre"),
    "accepted": ("accepted", "acceptés"),
    "sent": ("sent", "envoyés"),
    "delivered": ("delivered", "livrés"),
    "undelivered": ("undelivered", "non livrés"),
    "failed": ("failed", "échoués"),
    "suppressed": ("suppressed", "retenus"),
}


def colon(lang: Lang) -> str:
    """French sets a space before a colon."""
    return " :" if lang is Lang.FR else ":"


def word(name: str, lang: Lang) -> str:
    words = _WORDS.get(name)
    return name if words is None else words[1 if lang is Lang.FR else 0]


def number(value: int, lang: Lang) -> str:
    return format_decimal(value, locale=_LOCALE[lang])


def percent(value: float, lang: Lang) -> str:
    pattern = "#,##0.0 %" if lang is Lang.FR else "#,##0.0%"
    return format_percent(value, format=pattern, locale=_LOCALE[lang])


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
    ]
    out += [table(facts, right=[False, False], indent="")]
    for title, codes in (("problems", summary.problems), ("warnings", summary.warnings)):
        if codes:
            out += ["", f"{word(title, lang)}{colon(lang)}"]
            out += [f"  - {describe_problem(code, lang)}" for code in codes]
    return "\n".join(out)


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
