"""Job submission backends behind one interface (providers.base)."""
