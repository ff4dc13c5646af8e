"""The self-service returns portal `/returns/<brand>`: find the order (number + e-mail or
postal code), pick items and reasons, see the decision, download the prepaid label."""
