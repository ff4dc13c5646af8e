"""The EDD widget: its script (`/widget/v1/edd-widget.js`) and the JSON it calls
(`/widget/v1/edd`), open to the brand's allowed origins."""
