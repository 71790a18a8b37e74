"""Patients who text back (or press a key on a call): keywords, what became of a text,
replies, opt-outs. Nothing here talks to Redis: the step an incoming text goes through is
:mod:`notifier.incoming_sms`, what it stores is in :mod:`notifier.store`."""
