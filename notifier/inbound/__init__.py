"""Patients who text back (or press a key on a call): keywords, what a text asks for and
the answer to it, replies, opt-outs."""
