"""The console's words, one module per group of pages; :mod:`..i18n` joins them into one
catalogue and refuses a key written twice."""
