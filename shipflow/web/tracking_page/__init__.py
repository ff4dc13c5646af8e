"""The branded tracking page: `/t/<brand>/<token>` (signed link, full view), the lookup form
`/t/<brand>` (order number + e-mail or postal code) and `/t/<brand>/number/<tracking number>`
(status and dates only, nothing personal)."""
