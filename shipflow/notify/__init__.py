"""Messages out: the transports (SMTP, Slack, signed webhooks, SMS/WhatsApp providers), their
configuration, customer templates and send timing. A leaf: it imports nothing of shipflow but
itself and `shipflow.text`; ops routing lives in `shipflow.delays.routing`, customer message
queueing in `shipflow.customer_messages`."""
