"""Patients who text back (or press a key on a call): keywords, replies, opt-outs."""
