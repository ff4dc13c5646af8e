"""The failed-delivery page `/ndr/<token>`: the customer sees what happened and chooses a new
date, a corrected address, a pickup point or a return; the choice goes to the carrier."""
