"""Patients who text back (or press a key on a call): keywords, what became of a text,
replies, and the step an incoming text goes through (:mod:`notifier.inbound.incoming_sms`,
which stores through :mod:`notifier.store`). What an opt-out is lives in
:mod:`notifier.opt_outs`, below both."""
