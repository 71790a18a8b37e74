"""Channel clients: each hands a rendered message to one provider behind one interface."""
