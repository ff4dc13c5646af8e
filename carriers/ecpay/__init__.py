"""ECPay logistics (Taiwan): client (I/O), mapping (pure), units (code tables), carrier."""

from carriers.ecpay.carrier import ECPayCarrier

__all__ = ["ECPayCarrier"]
