"""Messages out: customer notifications and ops alert channels."""
