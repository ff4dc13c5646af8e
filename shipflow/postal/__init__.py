"""Postal geography outside the US: formats per country and the bundled GeoNames tables."""
