"""The EDD widget's JSON (`/widget/v1/edd`), open to the brand's allowed origins."""

from shipflow.web.widget.views import bp

__all__ = ["bp"]
