"""Failed deliveries (NDR): open a case, ask the customer, push the choice to the carrier."""
