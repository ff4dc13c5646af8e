"""The demo shop: a catalogue and product pages carrying the EDD widget."""
